// scratch: RSS of serve recording 2 x (2 ch x 1 MS/s) with live clients; node flags from argv
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
const SECONDS = Number(process.env.S ?? 30);
const flags = process.argv.slice(2);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ops-rss-'));
const child = spawn(process.execPath, [...flags, '--import', '/tmp/ops-scratch/mem.mjs', '--max-semi-space-size=4', 'bin/spikeloop.js', 'serve', '--port', '0', '--db', path.join(dir, 'b.db')], { stdio: ['ignore', 'pipe', 'pipe'] });
let memlines = [];
child.stderr.on('data', (d) => { for (const l of String(d).split('\n')) if (l.startsWith('MEM')) memlines.push(l); else if (l.trim()) console.log('ERR', l); });
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
const [base, token] = await new Promise((res) => { let out = ''; child.stdout.on('data', (d) => { out += d; const m = /listening on (http:\/\/[\d.]+:\d+)\/\?token=(\S+) /.exec(out); if (m) res([m[1], decodeURIComponent(m[2])]); }); });
const idle = rss();
const start = async () => {
  const r = await fetch(`${base}/api/runs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ protocol: { kind: 'square', durationS: SECONDS + 20 }, sampleRate: 1e6 }) });
  const id = (await r.json()).run.id;
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/runs/${id}/live`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', () => {});
  return ws;
};
const socks = [await start()];
await new Promise((r) => setTimeout(r, 5000));
socks.push(await start());
let peak = 0; const series = [];
for (let t = 0; t < SECONDS; t++) { if (process.env.SNAP && (t === 15 || t === 55)) child.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 1000)); const v = rss(); peak = Math.max(peak, v); let w = 0; try { w = statSync(path.join(dir, 'b.db-wal')).size / 1048576; } catch {} series.push(Math.round(v) + '/' + Math.round(w)); }
console.log(JSON.stringify({ flags, idle: Math.round(idle), peak: Math.round(peak), series: series.join(' ') }));
console.log(memlines.filter((_, i) => i % 2 === 0).join('\n'));
for (const s of socks) s.close();
child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); rmSync(dir, { recursive: true, force: true });
