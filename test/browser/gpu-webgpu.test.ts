/** The GPU suite of the built bundle (test/browser/gpu.ts) on webgpu. */
import { gpuSuite } from './gpu';

gpuSuite('webgpu');
