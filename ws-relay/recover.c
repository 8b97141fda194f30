/* recover.c - see recover.h. */
#include "recover.h"

#include <string.h>

bool recover_ok(const recover_in *in)
{
    if (!in->since_epoch || !in->epoch || strcmp(in->since_epoch, in->epoch) != 0) return false;
    if (in->since < 0 || in->since > in->newest) return false;
    size_t want = (size_t)(in->newest - in->since);
    if (want > in->max || in->n != want) return false;
    for (size_t i = 0; i < in->n; i++)
        if (in->offsets[i] != in->since + 1 + (int64_t)i) return false;
    return true;
}

bool recover_keep_held(int64_t offset, bool recovered, int64_t newest)
{
    return offset == 0 || !recovered || offset > newest;
}
