/**
 * Notebook display and plots: everything a notebook needs to show results.
 * Re-exported from the package root (`import { show, lossCurves } from 'einnet'`).
 */
export { showMath, showTable, figureBundle, mathBundle, tableBundle, DisplayHandle, PLOTLY_MIME } from './display';
export type { FigureBundleOptions, HasLatex, TableRow, TableOptions } from './display';
export { setDisplaySink, emitDisplay, richOutputAvailable } from './kernel-output';
export type { MimeBundle, DisplayMessage, DisplaySink } from './kernel-output';
export { show, richBundle, registerRichDisplay, summaryBundle } from './rich';
export type { Showable, RichDisplay } from './rich';
export { resetPlotlyInlining, plotlyLibraryPath, PLOTLY_LIBRARY_BEGIN, PLOTLY_LIBRARY_END, FIGURE_DIV_CLASS } from './plotly-html';
export { subplotGrid, describeFigure } from './figure';
export type { Figure, Trace, GridCell } from './figure';
export { heatmap, activationGrid, filterGrid } from './grids';
export type { HeatmapOptions, ActivationGridOptions, FilterGridOptions } from './grids';
export { lossCurves, LiveCurves } from './curves';
export type { LossCurvesOptions, MetricLogs, HistoryLike } from './curves';
export { saveHtml, savePng } from './save';
export { findChromium } from './png-render';
export { occlusionMap } from './occlusion';
export type { OcclusionOptions, OcclusionResult } from './occlusion';
export { receptiveFields, pathCounts, receptiveFieldFigure } from './receptive-field';
export type { LayerGeometry, LayerGeometryLists, ReceptiveFieldRow, ReceptiveFieldFigureOptions } from './receptive-field';
