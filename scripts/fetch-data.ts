/**
 * `npm run fetch-data -- <name> [<name> …] [--dir <folder>] [--force]` — downloads datasets into
 * the cache folder the loaders search, with SHA-256 verification. `--list` shows the names.
 * The only command in einnet that uses the network; nothing runs it implicitly.
 */
import { EinError } from '../core/diagnostics';
import { DATASET_CATALOG } from '../datasets/catalog';
import { fetchDataset } from '../datasets/fetch';
import { defaultCacheDir } from '../datasets/sources';

const USAGE = `usage: npm run fetch-data -- <name> [<name> ...] [--dir <cache folder>] [--force]
       npm run fetch-data -- --list
datasets: ${Object.keys(DATASET_CATALOG).join(', ')}
cache folder: $EINNET_DATA_DIR, else ~/.cache/einnet/datasets (now ${defaultCacheDir()})`;

async function main(argv: string[]): Promise<number> {
  const names: string[] = [];
  let dir: string | undefined;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    } else if (a === '--list') {
      for (const e of Object.values(DATASET_CATALOG)) console.log(`${e.name.padEnd(14)} ${e.title}  (${e.homepage})`);
      return 0;
    } else if (a === '--dir') {
      dir = argv[++i];
      if (dir === undefined) {
        console.error('fetch-data: --dir needs a folder\n' + USAGE);
        return 2;
      }
    } else if (a === '--force') {
      force = true;
    } else if (a.startsWith('-')) {
      console.error(`fetch-data: unknown option ${a}\n${USAGE}`);
      return 2;
    } else {
      names.push(a);
    }
  }
  if (names.length === 0) {
    console.error(USAGE);
    return 2;
  }
  let lastShown = '';
  for (const name of names) {
    const { dir: where } = await fetchDataset(name, {
      cacheDir: dir,
      force,
      log: (line) => console.error(line),
      onProgress: (p) => {
        // A line per 10% (or per 10 MB when the size is unknown), so logs stay short.
        const step = p.total ? `${Math.floor((10 * p.received) / p.total) * 10}%` : `${Math.floor(p.received / 1e7) * 10} MB`;
        const key = `${p.file} ${step}`;
        if (key !== lastShown) {
          lastShown = key;
          console.error(`  ${key}`);
        }
      },
    });
    console.log(`${name}: ${where}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof EinError) console.error(err.message);
    else console.error(`fetch-data: unexpected failure: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);
