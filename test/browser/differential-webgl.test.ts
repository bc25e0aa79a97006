/**
 * The differential suite on webgl (test/browser/differential.ts), and explain()'s notes on the
 * steps webgl runs another way.
 */
import { expect, it } from 'vitest';
import { PAGE, differentialSuite } from './differential';

differentialSuite('webgl', (session) => {
  it('explain() says where a GPU backend runs a step another way, and nothing on cpu', async () => {
    const name = 'min pool with padding';
    const webgl = await session().call<string>(PAGE, 'explainCase', 'webgl', name);
    const cpu = await session().call<string>(PAGE, 'explainCase', 'cpu', name);
    expect(webgl).toMatch(/\n {2}note: webgl: tf\.where on the flattened tensors \(its Select stops at rank 4\)/);
    expect(cpu).not.toContain('note:');
    expect(webgl.split('\n').filter((l) => !l.startsWith('  note: '))).toEqual(cpu.split('\n'));
  });
});
