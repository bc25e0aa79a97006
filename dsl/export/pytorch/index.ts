/**
 * Export of einnet programs as PyTorch source (`Program.toPyTorch`): the lowered plan, step by
 * step, as a `torch.nn.Module` that needs only `torch`.
 */
export { planToModule, type ModuleText } from './module';
export { isPythonIdentifier } from './python';
