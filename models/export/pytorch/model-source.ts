/**
 * model.py of a PyTorch export: the model's two programs translated by `Program.toPyTorch`
 * (`TrainProgram`, `EvalProgram`), the model's constants (inputs, output, parameter shapes,
 * running statistics, dropout masks, what each program reads), and the module around them
 * (python/model-py.ts).
 */
import { readTensors } from '../../../dsl';
import type { Model } from '../../model';
import { modelError } from '../../errors';
import { MODEL_PY_BODY } from './python/model-py';
import { pythonDict, pythonLiteral } from './python-literal';
import { batchFreeProgram } from './batch-generic';

/** A dropout mask's shape for any batch: `null` where the extent is the batch size. */
function maskShapes(model: Model): Map<string, (number | null)[]> {
  const out = new Map<string, (number | null)[]>();
  if (model.dropoutRates.size === 0) return out;
  const withBatch = (b: number) => {
    const shapes: Record<string, number[]> = Object.create(null);
    for (const [name, shape] of Object.entries(model.inputShapes)) shapes[name] = shape.map((d, k) => (k === model.batchAxis ? b : d));
    return model.check(shapes).shapes;
  };
  const [two, three] = [withBatch(2), withBatch(3)];
  for (const name of model.dropoutRates.keys()) {
    const shape = two[name].map((d, k) => {
      if (d === three[name][k]) return d;
      if (d === 2 && three[name][k] === 3) return null;
      throw modelError('EIN7010', 'exportPyTorch', `dropout mask ${name} has an axis that grows with the batch but is not the batch`);
    });
    out.set(name, shape);
  }
  return out;
}

/** The complete model.py. */
export function modelPySource(model: Model, title: string): string {
  const report = model.check();
  const stats = [...model.stats.keys()];
  const evalShapes: Record<string, readonly number[]> = Object.assign(Object.create(null), model.inputShapes);
  for (const [name, v] of model.stats) evalShapes[name] = v.shape;
  const evalReport = model.evalProgram.check(evalShapes);
  const evalReadsStat = readTensors(model.evalProgram.ast);
  const trainReads = [...model.inputNames, ...report.params];
  const evalReads = [...model.inputNames, ...evalReport.params, ...stats.filter((s) => evalReadsStat.has(s))];
  const params: Record<string, readonly number[]> = {};
  for (const [name, v] of model.params) params[name] = v.shape;
  const running: Record<string, unknown> = {};
  for (const [name, spec] of model.statSpecs) running[name] = { shape: model.stats.get(name)!.shape, momentum: spec.momentum, init: spec.init };
  const dropout: Record<string, unknown> = {};
  for (const [name, shape] of maskShapes(model)) dropout[name] = { rate: model.dropoutRates.get(name)!, shape };
  const inputs: Record<string, (number | null)[]> = {};
  for (const [name, shape] of Object.entries(model.inputShapes)) inputs[name] = shape.map((d, k) => (k === model.batchAxis ? null : d));
  const constants = [
    `# Inputs by einnet name and shape (None: the batch axis, any extent), in einnet's layout.`,
    `INPUTS = ${pythonLiteral(inputs)}`,
    `BATCH_AXIS = ${model.batchAxis}`,
    `OUTPUT = ${pythonLiteral(model.output)}`,
    `# Trainable parameters: einnet name -> shape.`,
    `PARAMETERS = ${pythonDict(params)}`,
    `# Running statistics (buffers): assigned by the training program, read by the evaluation program.`,
    `RUNNING_STATS = ${pythonDict(running)}`,
    `# Dropout masks: Bernoulli(1 - rate) / (1 - rate) in training (inverted dropout), 1 in evaluation.`,
    `DROPOUT = ${pythonDict(dropout)}`,
    `# The tensors each program is called with.`,
    `TRAIN_READS = ${pythonLiteral(trainReads)}`,
    `EVAL_READS = ${pythonLiteral(evalReads)}`,
  ];
  const header = [
    `"""${title}, exported from einnet: a torch.nn.Module with the einnet model's parameters, running`,
    `statistics, training and evaluation modes.`,
    ``,
    `    from model import build`,
    `    model = build()            # the exported weights (an einnet checkpoint in ./weights)`,
    `    model.eval()`,
    `    scores = model(X)          # X: ${shapeComment(inputs)}`,
    ``,
    `Tensors keep einnet's layout (images [batch, height, width, channels]) and names:`,
    `model.state_dict() keys are the einnet names ('stage1.block1.conv1.W', 'stem.bn.μ').`,
    `TrainProgram and EvalProgram are the einnet programs translated statement by statement.`,
    `"""`,
    `import os`,
    ``,
    `import torch`,
    `from torch import nn`,
    ``,
    `try:`,
    `    from .einnet_checkpoint import read_checkpoint`,
    `except ImportError:  # model.py run or imported from its own folder`,
    `    from einnet_checkpoint import read_checkpoint`,
  ];
  const programs = [
    `# ---------------------------------------------------------------- the training program`,
    batchFreeProgram(model.trainProgram, 'TrainProgram', model.inputShapes, model.inputNames, model.batchAxis),
    `# ---------------------------------------------------------------- the evaluation program`,
    batchFreeProgram(model.evalProgram, 'EvalProgram', evalShapes, model.inputNames, model.batchAxis),
  ];
  const sections = [header.join('\n'), programs.join('\n\n\n'), constants.join('\n'), MODEL_PY_BODY.trim()];
  return `${sections.join('\n\n\n')}\n`;
}

function shapeComment(inputs: Record<string, (number | null)[]>): string {
  return Object.values(inputs)
    .map((s) => `[${s.map((d) => (d === null ? 'batch' : String(d))).join(', ')}]`)
    .join(', ');
}
