// Prints how the reply parser does on the held-out lines of issue 16, per class: right, total,
// accuracy and false "done". Usage: npx tsx scripts/parser-accuracy.ts [--dev] [--wrong]
//   --dev    the development lines (the ones tuned on) instead of the held-out ones
//   --wrong  also list every line read wrong, with what it was read as
import { DEV_LINES } from '../test/unit/reply-parser-dev.ts';
import { HELD_OUT, HELD_OUT_CLASSES } from '../test/unit/reply-parser-heldout.ts';
import { scoreLines } from '../test/unit/reply-parser-score.ts';

const dev = process.argv.includes('--dev');
const showWrong = process.argv.includes('--wrong');
const tables = dev ? DEV_LINES : HELD_OUT;
let right = 0;
let total = 0;
let falseDone = 0;
console.log(`${dev ? 'development' : 'held-out'} lines`);
for (const name of HELD_OUT_CLASSES) {
  const score = scoreLines(tables[name]);
  right += score.right;
  total += score.total;
  falseDone += score.falseDone;
  const pct = (100 * score.accuracy).toFixed(1).padStart(5);
  console.log(
    `${name.padEnd(18)} ${String(score.right).padStart(3)}/${String(score.total).padEnd(3)} ${pct}%  false done: ${score.falseDone}`,
  );
  if (showWrong) {
    for (const w of score.wrong) {
      const want = `${String(w.expected)} ${String(w.expectedPercent)}`;
      console.log(
        `    ${JSON.stringify(w.line)}: want ${want}, got ${String(w.got)} ${String(w.gotPercent)}`,
      );
    }
  }
}
console.log(
  `${'all'.padEnd(18)} ${String(right).padStart(3)}/${String(total).padEnd(3)} ${((100 * right) / total).toFixed(1).padStart(5)}%  false done: ${falseDone}`,
);
