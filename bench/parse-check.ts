/**
 * `npm run bench:parse`: parse + check time of a 200-statement program (issue 2's target:
 * under 20 ms). The program is a deep stack of the constructs users write — convolutions with
 * padding, pooling, grouped convs, concatenation, dense layers — generated with fresh names.
 */
import { checkProgram } from '../dsl/check/checker';
import { parse } from '../dsl/parse/parser';

function program(statements: number): string {
  const lines: string[] = [];
  let k = 0;
  lines.push(`L0[b,x:32,y:32,i:16] = X[b,x,y,i]`);
  while (lines.length < statements - 1) {
    const prev = `L${k}`;
    const kind = k % 4;
    k++;
    if (kind === 0) lines.push(`L${k}[b,x:32,y:32,j:16] = relu(W${k}[Δx:3,Δy:3,I,j] · ${prev}[b,x+Δx-1,y+Δy-1,I] + B${k}[j])`);
    else if (kind === 1) lines.push(`L${k}[b,x:32,y:32,(g,j:4)] = W${k}[Δx:3,Δy:3,g:4,i,j] · ${prev}[b,x+Δx-1,y+Δy-1,(g,i)]`);
    else if (kind === 2) lines.push(`L${k}[b,x:32,y:32,J1+J2] = ${prev}[b,x,y,J1] ; max[Δx:3,Δy:3] ${prev}[b,clamp(x+Δx-1),clamp(y+Δy-1),J2]`);
    else lines.push(`L${k}[b,x:32,y:32,j:16] = W${k}[i,j] · ${prev}[b,x,y,i]`);
  }
  lines.push(`Y[b,c:10] = V[x,y,j,c] · L${k}[b,x,y,j]`);
  return lines.join('\n');
}

const source = program(200);
const shapes = { X: [8, 32, 32, 16] };
const times: number[] = [];
for (let run = 0; run < 30; run++) {
  const t0 = performance.now();
  checkProgram(parse(source), { shapes });
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const statements = source.split('\n').length;
console.log(`parse + check of a ${statements}-statement program (${source.length} characters), 30 runs:`);
import('os').then((os) =>
  console.log(`  (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores: medians rise with load; the best run is the machine's own speed)`),
);
console.log(
  `  first run ${times.length ? times[times.length - 1].toFixed(1) : '?'} ms (cold), median ${times[15].toFixed(1)} ms, best ${times[0].toFixed(1)} ms — target < 20 ms`,
);
