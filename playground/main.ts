/**
 * The playground page: wires the editors, the course examples, the backend choice, the result
 * tabs (shapes, explain, backward, run, train) and the shared link together.
 */
import { BACKEND_ORDER, EinError, activeBackend, useBackend, type BackendName } from '../browser';
import { analyse, errorElement, renderLatex, shapesElement, textOf, type Analysis } from './analysis';
import { CodeField } from './editor';
import { EXAMPLES, sameTable, type CourseExample, type ReadTensor, type TableData } from './examples';
import { runProgram } from './runner';
import { readState, writeState } from './share';
import { writeShapes } from './shapes-field';
import { tableElement, tensorView } from './tables';
import { TrainPanel } from './train-view';
import { plotly } from './plotly';
import { selectTab, wireTabs } from './tabs';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const state = {
  example: undefined as CourseExample | undefined,
  analysis: undefined as Analysis | undefined,
  lastRun: undefined as Record<string, ReadTensor> | undefined,
  backendReady: Promise.resolve() as Promise<unknown>,
};

/** Backend, program and shapes run so far: a first run also compiles (shaders, plans). */
const ranBefore = new Set<string>();
let timer: ReturnType<typeof setTimeout> | undefined;
const onChange = () => {
  clearTimeout(timer);
  timer = setTimeout(refresh, 200);
};
const program = new CodeField($('program'), $('program-highlight'), { notation: true, onChange });
const shapes = new CodeField($('shapes'), $('shapes-highlight'), { notation: false, onChange });

/** The expected table beside the computed one, with a ✓ or ✗ between. */
function renderExpected(): void {
  const target = $('expected');
  target.replaceChildren();
  const ex = state.example;
  const report = state.analysis?.report;
  if (ex === undefined) return;
  const computed: TableData | undefined = report ? ex.computed({ report, outputs: state.lastRun }) : undefined;
  const box = document.createElement('div');
  box.className = 'side-by-side';
  box.appendChild(tableElement(ex.expected));
  if (computed !== undefined) {
    box.appendChild(tableElement(computed));
    const verdict = document.createElement('div');
    const same = sameTable(ex.expected, computed);
    verdict.className = same ? 'match' : 'mismatch';
    verdict.textContent = same ? '✓ the same as the lecture' : '✗ differs from the lecture';
    box.appendChild(verdict);
  } else {
    const hint = document.createElement('div');
    hint.className = 'muted';
    hint.textContent = 'run to compute this table';
    box.appendChild(hint);
  }
  target.appendChild(box);
}

function refresh(): void {
  let analysis: Analysis;
  try {
    analysis = analyse(program.value, shapes.value);
  } catch (e) {
    // Not a mistake of the user's but a fault of einnet's: say so rather than fail silently.
    $('diagnostics').textContent = `internal error (please report it): ${String(e)}`;
    return;
  }
  state.analysis = analysis;
  state.lastRun = undefined;
  const diagnostics = $('diagnostics');
  diagnostics.replaceChildren(...analysis.errors.map((e) => errorElement(e, analysis.errorField === 'shapes' ? 'shapes' : 'line')));
  const spans = analysis.errors.flatMap((e) => (e.span === undefined ? [] : [e.span]));
  program.setMarks(analysis.errorField === 'program' ? spans : []);
  shapes.setMarks(analysis.errorField === 'shapes' ? spans : []);
  // After a syntax error the last typeset program stays, dimmed.
  $('latex').classList.toggle('stale', analysis.program === undefined);
  if (analysis.program !== undefined) {
    try {
      renderLatex(analysis.program, $('latex'));
    } catch {
      $('latex').textContent = '';
    }
  }
  const report = analysis.report;
  $('panel-shapes').replaceChildren(report ? shapesElement(report) : document.createTextNode('No shapes until the errors are fixed.'));
  renderExplain();
  $('backward').textContent = report ? textOf(() => analysis.program!.backward(analysis.shapes!)) : '';
  $('outputs').replaceChildren();
  $('run-status').textContent = '';
  delete $('run-status').dataset.done;
  renderExpected();
  writeState({ example: state.example?.id, backend: activeBackendName(), program: program.value, shapes: shapes.value });
}

/** `explain()` depends on the active backend (its notes), so it is redrawn when that changes. */
function renderExplain(): void {
  const analysis = state.analysis;
  const text = analysis?.report ? textOf(() => analysis.program!.explain(analysis.shapes)) : '';
  $('explain').textContent = analysis?.report ? `# on ${activeBackend().name}\n${text}` : '';
}

function activeBackendName(): string | undefined {
  return $<HTMLSelectElement>('backend').value || undefined;
}

async function run(): Promise<void> {
  const analysis = state.analysis;
  if (analysis?.report === undefined || analysis.program === undefined) {
    $('run-status').textContent = 'fix the errors first';
    return;
  }
  selectTab('tab-run');
  await state.backendReady;
  $('run-status').textContent = 'running…';
  const values = $<HTMLSelectElement>('bind-mode').value === 'example' ? (state.example?.values ?? {}) : {};
  try {
    const backend = activeBackend().name;
    const key = JSON.stringify([backend, program.value, analysis.shapes]);
    const first = !ranBefore.has(key);
    const result = await runProgram(analysis.program, analysis.report, values);
    ranBefore.add(key);
    if (state.analysis !== analysis) return;
    state.lastRun = result.outputs;
    const random = Object.entries(result.bound)
      .filter(([, how]) => how === 'random')
      .map(([n]) => n);
    $('run-status').textContent =
      `${backend}: ${result.milliseconds.toFixed(1)} ms (run and read back${first ? '; the first run for these shapes includes compiling' : ''})` +
      (random.length > 0 ? ` · random: ${random.join(', ')}` : '');
    $('run-status').dataset.done = 'true';
    $('outputs').replaceChildren(...Object.entries(result.outputs).map(([name, t]) => tensorView(name, t)));
    renderExpected();
  } catch (e) {
    $('run-status').textContent = e instanceof EinError ? e.message : `run failed: ${String(e)}`;
  }
}

function loadExample(ex: CourseExample | undefined): void {
  state.example = ex;
  if (ex === undefined) return;
  program.value = ex.program;
  shapes.value = writeShapes(ex.shapes);
  refresh();
  // The lecture's table is on the Run tab; numeric tables need a run to compare.
  selectTab('tab-run');
  if (ex.values !== undefined) void run();
}

async function chooseBackend(name: BackendName | undefined): Promise<void> {
  const status = $('backend-status');
  status.textContent = 'starting…';
  try {
    const info = await useBackend(name);
    $<HTMLSelectElement>('backend').value = info.name;
    const adapter = info.adapter ? ` (${Object.values(info.adapter).filter(Boolean).join(', ')})` : '';
    status.textContent = `${info.name}${adapter}`;
    status.dataset.backend = info.name;
  } catch (e) {
    // Say why, and keep (or, at the start, take) a backend that works.
    const why = e instanceof EinError ? `${e.code}: ${e.summary}${e.hint ? ` — ${e.hint}` : ''}` : String(e);
    const info = name !== undefined && status.dataset.backend === undefined ? await useBackend() : activeBackend();
    $<HTMLSelectElement>('backend').value = info.name;
    status.dataset.backend = info.name;
    status.textContent = `${info.name} (${why})`;
  }
  renderExplain();
  if (state.analysis !== undefined) writeState({ example: state.example?.id, backend: activeBackendName(), program: program.value, shapes: shapes.value });
}

function start(): void {
  const shared = readState(location.hash);
  const exampleSelect = $<HTMLSelectElement>('example');
  exampleSelect.append(new Option('— your program —', ''), ...EXAMPLES.map((ex) => new Option(ex.title, ex.id)));
  exampleSelect.addEventListener('change', () => loadExample(EXAMPLES.find((ex) => ex.id === exampleSelect.value)));
  const backendSelect = $<HTMLSelectElement>('backend');
  backendSelect.append(...BACKEND_ORDER.map((n) => new Option(n, n)));
  backendSelect.addEventListener('change', () => {
    state.backendReady = chooseBackend(backendSelect.value as BackendName);
  });
  const wanted = BACKEND_ORDER.find((n) => n === shared.backend);
  state.backendReady = chooseBackend(wanted);
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-insert]')) b.addEventListener('click', () => program.insert(b.dataset.insert!));
  $('run').addEventListener('click', () => void run());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  });
  $('share').addEventListener('click', () => {
    writeState({ example: state.example?.id, backend: activeBackendName(), program: program.value, shapes: shapes.value });
    void navigator.clipboard?.writeText(location.href).then(
      () => ($('share').textContent = 'Link copied'),
      () => ($('share').textContent = 'Link in the address bar'),
    );
  });
  wireTabs();
  const train = new TrainPanel(() => ({ source: program.value, shapes: state.analysis?.shapes }));
  const example = EXAMPLES.find((ex) => ex.id === shared.example);
  exampleSelect.value = example?.id ?? '';
  if (shared.program !== undefined) {
    state.example = example;
    program.value = shared.program;
    shapes.value = shared.shapes ?? '';
    refresh();
  } else loadExample(example ?? EXAMPLES[0]);
  exampleSelect.value = state.example?.id ?? '';
  document.body.dataset.ready = 'true';
  // Plotly and the MNIST subset are large: fetch them once the page is idle, before they are needed.
  const idle = (window as { requestIdleCallback?: (f: () => void) => void }).requestIdleCallback ?? ((f: () => void) => setTimeout(f, 1500));
  const preload = () =>
    idle(() => {
      void plotly();
      train.preload();
    });
  // After the load event: a script added before it would hold the event back.
  if (document.readyState === 'complete') preload();
  else window.addEventListener('load', preload, { once: true });
}

start();
