// WMT14 En-De / En-Fr → binary dataset: downloads the training corpora, newstest2013 (valid) and
// newstest2014 (test), then prepares them like fairseq's prepare-wmt14en2*.sh (40k joint
// subwords, ratio 1.5). Usage:
//   node --import tsx data-scripts/wmt14.ts --out data/wmt14-en-de [--src en --tgt de|fr]
import { runCommand } from '../src/cli/command.js';
import { wmt14 } from '../src/cli/mt-prepare.js';

process.exitCode = await runCommand(wmt14, process.argv.slice(2));
