/** README.md of a PyTorch export: what the files are and the torchrun commands. */
import type { Model } from '../../model';
import type { TrainingConfig } from './training-config';
import { pythonLiteral } from './python-literal';

export function readmeSource(model: Model, config: TrainingConfig, title: string, command: string): string {
  const dataDir = config.dataDir ?? 'DATA_DIR';
  const data = config.dataset ?? 'MNIST, Fashion-MNIST or CIFAR (this model fits none of them)';
  const scores = config.classes === null ? '' : ` (${config.classes} class scores)`;
  const schedules = Object.keys(config.schedules);
  const kwargs = Object.entries(config.optimizer.kwargs)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `(${v.join(', ')})` : pythonLiteral(v)}`)
    .join(', ');
  return `# ${title} in PyTorch

Exported from einnet: ${model.parameterCount.toLocaleString('en-US')} parameters, input \`${config.input}\` \
[batch, ${model.inputShapes[config.input].slice(1).join(', ')}] (height, width, channels), output \`${config.output}\`${scores}.

| file | what |
| --- | --- |
| \`model.py\` | the network as a \`torch.nn.Module\` (\`build()\` loads \`weights/\`); parameter and buffer names are einnet's |
| \`weights/\` | the exported parameters and running statistics (an einnet checkpoint: \`model.json\` + little-endian float32) |
| \`einnet_checkpoint.py\` | reads and writes that format with torch alone |
| \`train.py\` | DistributedDataParallel training on ${data}; a checkpoint every epoch |

## Train

On this machine, two processes:

    ${command}

Several machines: the same command on each of the N nodes (P processes each; HOST:PORT is a free port
on one of them that all can reach; JOB any name shared by the nodes):

    torchrun --nnodes=N --nproc_per_node=P --rdzv_id=JOB --rdzv_backend=c10d --rdzv_endpoint=HOST:PORT train.py --data ${dataDir}

(PyTorch 2 also accepts the flags with hyphens: \`--rdzv-endpoint\`.)

With GPUs, one per process: add \`--backend nccl\` (the default, gloo, runs on CPUs).

The defaults come from the einnet training options: ${config.epochs} epochs, global batch ${config.batchSize} \
(\`--batch-size\` is divided among the processes), \`torch.optim.${config.optimizer.name}(${kwargs})\`\
${schedules.length > 0 ? `, ${schedules.join(', ')} set per epoch from the schedule in \`CONFIG\`` : ''}${config.augment ? ', random crop and flip' : ''}. \
\`python3 train.py --help\` lists the flags. Rank 0 prints one JSON line per epoch (train and test loss and accuracy) \
and appends it to \`checkpoints/log.jsonl\`; \`--resume\` continues from \`checkpoints/latest.json\`.

## Back in einnet

    const report = importPyTorch(model, '<this folder>'); // the latest checkpoint of train.py
    console.log(report.metadata);                           // epoch, losses, accuracies

## Notes

- Tensors keep einnet's layout: images are [batch, height, width, channels] floats in [0, 1] (pixel / 255).
- Batch statistics are computed per process on its share of the batch (as \`nn.BatchNorm\` under DDP);
  the running statistics are averaged over the processes after each step, so every process holds the same.
- Dropout is inverted dropout, as in einnet: kept units are scaled by 1 / (1 − rate) in training.
`;
}
