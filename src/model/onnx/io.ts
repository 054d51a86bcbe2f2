/**
 * The exported graph's interface, shared by the exporter and the runtime. Its own module so that serving
 * (runtime.ts) imports these names without the exporter, whose converters load TensorFlow.js.
 */
export const ONNX_INPUT_IDS = 'ids';
export const ONNX_INPUT_LENGTHS = 'lengths';
export const ONNX_OUTPUT = 'probabilities';
/** Opset 17 (ONNX 1.12) and its IR version 8: every op we emit is stable there; ORT 1.30 runs both. */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** The bundle file holding the graph (beside model.json). */
export const ONNX_FILE = 'model.onnx';
