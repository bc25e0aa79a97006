/** The architectures: `xxx()` builds a Model, `xxxSpec()` gives its programs for `describeModel`. */
export { lenet5, lenet5Source, lenet5Program, type LeNetOptions } from './lenet';
export { alexnet, alexnetSpec, vgg16, vgg16Spec, type ArchOptions } from './classic';
export { resnetCifar, resnetCifarSpec, resnet50, resnet50Spec, type CifarResNetOptions } from './resnet';
export { densenetBC, densenetBCSpec, type DenseNetOptions } from './densenet';
