/**
 * The datasets `npm run fetch-data` can download: official URLs (mirrors after) and SHA-256
 * checksums of the exact files. The checksums are the ones torchvision and other loaders pin
 * for the same URLs; a file that does not match is never kept.
 */

/** One file to download. */
export interface RemoteFile {
  /** File name in the cache folder. */
  readonly name: string;
  /** Where to get it, tried in order (official source first, then mirrors). */
  readonly urls: readonly string[];
  /** Lower-case hex SHA-256 of the exact file. */
  readonly sha256: string;
}

/** One downloadable dataset. */
export interface CatalogEntry {
  /** The name used by `fetch-data` and the cache folder (`<cache>/<name>`). */
  readonly name: string;
  readonly title: string;
  readonly homepage: string;
  readonly files: readonly RemoteFile[];
  /**
   * For archives: the archive is extracted and removed; `extractsTo` is the folder it creates,
   * whose presence means the dataset is complete.
   */
  readonly archive?: { readonly format: 'tar.gz'; readonly extractsTo: string };
}

const MNIST_MIRRORS = ['http://yann.lecun.com/exdb/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'];
const FASHION_BASE = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

const idx = (bases: readonly string[], sums: Record<string, string>): RemoteFile[] =>
  Object.entries(sums).map(([name, sha256]) => ({ name, sha256, urls: bases.map((b) => b + name) }));

export const DATASET_CATALOG: Readonly<Record<string, CatalogEntry>> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    files: idx(MNIST_MIRRORS, {
      'train-images-idx3-ubyte.gz': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      'train-labels-idx1-ubyte.gz': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      't10k-images-idx3-ubyte.gz': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      't10k-labels-idx1-ubyte.gz': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    }),
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    files: idx([FASHION_BASE], {
      'train-images-idx3-ubyte.gz': '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      'train-labels-idx1-ubyte.gz': 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      't10k-images-idx3-ubyte.gz': '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      't10k-labels-idx1-ubyte.gz': '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
    }),
  },
  'cifar-10': {
    name: 'cifar-10',
    title: 'CIFAR-10 (binary version)',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    files: [
      {
        name: 'cifar-10-binary.tar.gz',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
        sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
      },
    ],
    archive: { format: 'tar.gz', extractsTo: 'cifar-10-batches-bin' },
  },
  'cifar-100': {
    name: 'cifar-100',
    title: 'CIFAR-100 (binary version)',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    files: [
      {
        name: 'cifar-100-binary.tar.gz',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'],
        sha256: '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec',
      },
    ],
    archive: { format: 'tar.gz', extractsTo: 'cifar-100-binary' },
  },
};
