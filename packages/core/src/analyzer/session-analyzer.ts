import type { PumpApplication } from "../application/application.js";
import { UsageError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { Analyzer, type AnalyzerOptions } from "./analyzer.js";
import { matrixService, type NamedMatrix } from "./matrix.js";
import { SessionMatrix, type SessionFields } from "./session-matrix.js";

export interface SessionAnalyzerOptions extends AnalyzerOptions {
  /** Use this matrix (or the one of this id) instead of creating `<Id>Matrix`. */
  matrixId?: string | SessionMatrix | undefined;
  /** The typed fields of each session in a created matrix: `{ user: "U30", bytes: "i8" }`. */
  dtype?: SessionFields | undefined;
}

/**
 * An analyzer over a SessionMatrix (BSPump's SessionAnalyzer), `this.sessions`: a row per session with
 * typed fields. It creates the matrix `<Id>Matrix` (registered) unless given `matrixId`. Implement
 * `evaluate` to open (`addRow`) and fill (`storeEvent`) sessions, and `analyze` to report and close
 * them (`closeRows`).
 */
export class SessionAnalyzer<Event = unknown> extends Analyzer<Event> {
  readonly sessions: SessionMatrix;

  constructor(app: PumpApplication, pipeline: Pipeline, options: SessionAnalyzerOptions = {}) {
    super(app, pipeline, options);
    const service = matrixService(app);
    if (options.matrixId === undefined) {
      this.sessions = service.addMatrix(new SessionMatrix(app, { id: `${this.id}Matrix`, dtype: options.dtype }));
      return;
    }
    const matrix = service.locateMatrix<NamedMatrix>(options.matrixId);
    if (!(matrix instanceof SessionMatrix)) throw new UsageError(`${this.locateAddress()}: matrix '${matrix.id}' is a ${matrix.constructor.name}, not a SessionMatrix`);
    this.sessions = matrix;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Matrix: this.sessions.id };
  }
}
