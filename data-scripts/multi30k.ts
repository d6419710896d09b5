// Multi30k task 1 → binary dataset: downloads the raw files (or takes --from DIR), then prepares
// them (src/cli/mt-prepare.ts → src/mt/data). Usage:
//   node --import tsx data-scripts/multi30k.ts --out data/multi30k [--from DIR] [--src en --tgt de]
import { runCommand } from '../src/cli/command.js';
import { multi30k } from '../src/cli/mt-prepare.js';

process.exitCode = await runCommand(multi30k, process.argv.slice(2));
