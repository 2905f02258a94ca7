/**
 * Every error @pump/dashboard raises, in one place, each with a stable `code`. Configuration problems
 * (a bad `[dashboard]` value) are core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type DashboardErrorCode = "PUMP_DASHBOARD_MOUNTED" | "PUMP_DASHBOARD_ASSET";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * dashboard's codes are passed through a cast; `code` still reads as one of `DashboardErrorCode`.)
 */
export class DashboardError extends PumpError {
  constructor(code: DashboardErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get dashboardCode(): DashboardErrorCode {
    return this.code as unknown as DashboardErrorCode;
  }
}

/** `mountDashboard()` was called twice for one application. */
export class AlreadyMountedError extends DashboardError {
  constructor() {
    super("PUMP_DASHBOARD_MOUNTED", "The dashboard is already mounted on this application");
  }
}

/** A file of the page is missing from the package (a broken install). */
export class MissingAssetError extends DashboardError {
  constructor(file: string, options?: ErrorOptions) {
    super("PUMP_DASHBOARD_ASSET", `The dashboard's file '${file}' is missing from @pump/dashboard (reinstall the package)`, options);
  }
}
