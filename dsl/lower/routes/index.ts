/**
 * The route registry: every way of lowering, in priority order. Statement routes claim groups
 * of statements first; every other statement's right-hand expressions go through the expression
 * routes, where the first route that matches and lowers an expression takes it. The last three
 * together take every expression, so lowering never runs out of routes. docs/lowering.md lists
 * them in this order.
 */
import type { ExprRoute, StatementRoute } from '../context';
import { batchNormRoute } from './batchnorm';
import { contractionRoute } from './contraction';
import { convolutionRoute } from './conv';
import { convEpilogueRoute } from './conv-epilogue';
import { elementwiseRoute } from './elementwise';
import { extremumRoute } from './extremum';
import { givenNormalizationRoute } from './normalize';
import { poolingRoute } from './pool';

export const STATEMENT_ROUTES: readonly StatementRoute[] = [batchNormRoute, givenNormalizationRoute];

export const EXPRESSION_ROUTES: readonly ExprRoute[] = [convEpilogueRoute, poolingRoute, convolutionRoute, contractionRoute, extremumRoute, elementwiseRoute];
