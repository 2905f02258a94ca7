// The entry point: `pnpm --filter @pump/app-blank-app start` (node src/bspump-blank-app.ts -c etc/blank-app.conf).
import { BlankAppApplication } from "./blank/index.ts";

const app = new BlankAppApplication();
process.exitCode = await app.run();
