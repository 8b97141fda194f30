/* files.js - files in the chat page: sending them (the attach button, drag-and-drop
 * onto the chat, pasted images) with an upload progress bar, and showing the file of a
 * FILE message: an image as its thumbnail inline (click: the full image in a viewer),
 * any other file as a card with its name, size and a Download button.
 *
 * Every file request carries the login in the Authorization header, like every other
 * API call: uploads go through XMLHttpRequest (for its upload progress events), images
 * and downloads are fetched and handed to the page as object URLs (blob:), so the token
 * never appears in a URL (where it would end up in logs, history and Referer headers).
 * Names go on the page with textContent only. A file is sent in two steps: POST
 * /api/rooms/{id}/files (its bytes), then a SEND with its fileId through the link, so
 * it works over whatever transport the link uses (docs/API.md "Files"). */
import { $, el, showBanner } from './dom.js';

const MAX_PARALLEL = 1;            // uploads one after another (the progress bar shows one)

// "1.4 MB"-style sizes (powers of 1024, one decimal under 10).
export function humanSize(n) {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  if (u === 0) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/* Uploads blob under name to room roomId; progress(fraction) as bytes go out.
 * Resolves the File, rejects with an Error whose message is the API's. */
export function uploadFile(token, roomId, blob, name, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/rooms/${encodeURIComponent(roomId)}/files?name=${encodeURIComponent(name)}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && progress) progress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status === 201 && body && body.id) resolve(body);
      else {
        const err = new Error(body && body.error ? body.error.message : `HTTP ${xhr.status}`);
        err.status = xhr.status;
        reject(err);
      }
    };
    xhr.onerror = () => reject(new Error('the upload failed (network)'));
    xhr.send(blob);
  });
}

// A file's bytes (thumbnail or whole) as a Blob, fetched with the bearer header.
async function fetchBlob(token, url) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.blob();
}

// Shows the full image of file in an overlay; a click or Escape closes it.
async function view(token, file) {
  const overlay = el('div', 'viewer');
  overlay.id = 'viewer';
  const img = el('img');
  img.alt = file.name;
  overlay.append(img, el('div', 'viewer-name', file.name));
  const close = () => { overlay.remove(); document.removeEventListener('keydown', onKey); };
  const onKey = (e) => { if (e.key === 'Escape') close(); };
  overlay.addEventListener('click', close);
  document.addEventListener('keydown', onKey);
  document.body.append(overlay);
  try {
    const url = URL.createObjectURL(await fetchBlob(token, file.url));
    img.onload = () => { URL.revokeObjectURL(url); overlay.dataset.loaded = 'true'; };
    img.src = url;
  } catch (e) {
    close();
    showBanner(`Could not open the image: ${e.message}`);
  }
}

// Saves file under its name: fetched with the bearer header, then an <a download>.
async function download(token, file, button) {
  button.disabled = true;
  try {
    const url = URL.createObjectURL(await fetchBlob(token, file.url));
    const a = el('a');
    a.href = url;
    a.download = file.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    showBanner(`Could not download ${file.name}: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}

/* The element showing file (a File document from a FILE message): an image with a
 * thumbnail inline, anything else as a card. token() is the current login's. */
export function fileView(file, token) {
  if (!file || typeof file.url !== 'string' || !file.url.startsWith('/api/files/')) return el('div', 'file-card', '(no file)');
  if (typeof file.thumbUrl === 'string' && file.thumbUrl.startsWith('/api/files/')) {
    const box = el('button', 'file-image');
    box.type = 'button';
    box.title = `${file.name} (${humanSize(file.size)}): click to see it full size`;
    const img = el('img');
    img.alt = file.name;
    // Room reserved at the thumbnail's size, so the log does not jump when it loads.
    const scale = Math.min(1, 400 / Math.max(file.width || 1, file.height || 1));
    if (file.width && file.height) {
      img.width = Math.max(1, Math.round(file.width * scale));
      img.height = Math.max(1, Math.round(file.height * scale));
    }
    box.append(img);
    box.addEventListener('click', () => view(token(), file));
    fetchBlob(token(), file.thumbUrl).then((b) => {
      const url = URL.createObjectURL(b);
      img.onload = () => { URL.revokeObjectURL(url); box.dataset.loaded = 'true'; };
      img.src = url;
    }).catch(() => { box.dataset.loaded = 'failed'; img.alt = `${file.name} (the picture did not load)`; });
    return box;
  }
  const card = el('div', 'file-card');
  const name = el('span', 'file-name', file.name);
  name.dir = 'auto';
  const button = el('button', 'secondary small file-download', 'Download');
  button.type = 'button';
  button.addEventListener('click', () => download(token(), file, button));
  card.append(name, el('span', 'file-size', humanSize(file.size)), button);
  return card;
}

/* Wires the composer's attach button, drag-and-drop onto the chat screen and pasting
 * images into the message box. deps: token(), roomId() (null when no room is open),
 * send(roomId, fileId) (the FILE message through the link; throws when not connected),
 * connected(). */
export function setUpUploads({ token, roomId, send, connected }) {
  const queue = [];
  let running = 0;
  const bar = $('upload');
  const progress = $('upload-progress');
  const label = $('upload-name');

  function show(name, fraction) {
    bar.hidden = false;
    label.textContent = name;
    progress.value = Math.round(fraction * 100);
    bar.dataset.state = 'uploading';
  }

  async function next() {
    if (running >= MAX_PARALLEL || !queue.length) return;
    const { file, name, room } = queue.shift();
    running += 1;
    show(name, 0);
    try {
      const f = await uploadFile(token(), room, file, name, (x) => show(name, x));
      progress.value = 100;
      if (roomId() === room) send(room, f.id);
      bar.dataset.state = 'done';
    } catch (e) {
      bar.dataset.state = 'failed';
      showBanner(`Could not send ${name}: ${e.message}`);
    } finally {
      running -= 1;
      if (!queue.length) setTimeout(() => { if (!running && !queue.length) bar.hidden = true; }, 800);
      next();
    }
  }

  function add(files) {
    const room = roomId();
    if (!room) return;
    if (!connected()) {
      showBanner('Not connected to the chat server yet; try the file again in a moment.');
      return;
    }
    for (const file of files) {
      // A pasted screenshot has a generic name (or none): give it a clearer one.
      const name = file.name && file.name !== 'image.png' ? file.name : `pasted-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
      queue.push({ file, name, room });
    }
    next();
  }

  const input = $('file-input');
  $('attach').addEventListener('click', () => input.click());
  input.addEventListener('change', () => { add([...input.files]); input.value = ''; });

  const zone = $('screen-chat');
  zone.addEventListener('dragover', (e) => {
    if (![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault();
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragleave', (e) => { if (e.target === zone) zone.classList.remove('dropping'); });
  zone.addEventListener('drop', (e) => {
    zone.classList.remove('dropping');
    if (!e.dataTransfer.files.length) return;
    e.preventDefault();
    add([...e.dataTransfer.files]);
  });
  $('message-input').addEventListener('paste', (e) => {
    const files = [...(e.clipboardData ? e.clipboardData.files : [])].filter((f) => f.type.startsWith('image/'));
    if (!files.length) return;
    e.preventDefault();
    add(files);
  });
}
