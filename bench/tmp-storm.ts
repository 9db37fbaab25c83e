import { storm } from './lib/storm.ts';
const kind = (process.argv[2] ?? 'encrypted') as 'encrypted' | 'plain';
const r = await storm(kind, { profiles: Number(process.argv[3] ?? 4), devices: 5, processes: Number(process.argv[4] ?? 2) });
console.log(JSON.stringify(r));
process.exit(0);
