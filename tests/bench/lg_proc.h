/* lg_proc.h - what the load generator reads about server processes from /proc.
 *
 * CPU time (utime + stime of /proc/<pid>/stat, in seconds) and resident memory
 * (VmRSS of /proc/<pid>/status, in KiB) of the processes named with --pid, the load
 * generator's own CPU time, and each CPU's busy time (/proc/stat). Linux only; nothing is written. A process that has
 * gone away reads as -1. */
#ifndef LG_PROC_H
#define LG_PROC_H

#include <sys/types.h>

double lg_proc_cpu_s(pid_t pid);
long lg_proc_rss_kib(pid_t pid);
double lg_proc_self_cpu_s(void);
/* Busy seconds (everything but idle and iowait) of each CPU from /proc/stat, for up
 * to n CPUs; returns how many were read. Busy time of a server CPU minus the watched
 * processes' CPU time is what other processes took from them. */
int lg_proc_cpus_busy_s(double *busy, int n);

#endif
