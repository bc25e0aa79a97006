/**
 * A model's rich display (its summary as an HTML table), for `show(model)` and for a notebook
 * cell whose last value is a model. Registered with viz when models/ is loaded.
 */
import { registerRichDisplay, summaryBundle, type MimeBundle } from '../viz';
import { Model } from './model';
import { summary } from './summary';

export function modelBundle(value: unknown): MimeBundle | undefined {
  if (!(value instanceof Model)) return undefined;
  const bundle = summaryBundle(summary(value));
  return bundle === undefined ? undefined : { ...bundle, 'text/plain': `Model (output ${value.output})\n${String(bundle['text/plain'])}` };
}

registerRichDisplay(modelBundle);
