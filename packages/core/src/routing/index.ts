export { InternalSource } from "./internal-source.js";
export { DirectSource } from "./direct-source.js";
export { Router } from "./router.js";
export { RouterSink } from "./router-sink.js";
export { RouterProcessor } from "./router-processor.js";
export { TeeProcessor, TeeSource } from "./tee.js";
export { copyEvent, type EventReceiver } from "./receiver.js";
