/** The GPU suite of the built bundle (test/browser/gpu.ts) on webgl. */
import { gpuSuite } from './gpu';

gpuSuite('webgl');
