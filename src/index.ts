/**
 * gm's library entry point: the parts the browser playground and other tools import — the
 * front end (text → AST) and the compiler (AST → model IR). Nothing here imports Node-only
 * modules or TensorFlow.js.
 */
export * from "./dsl/ast";
export * from "./dsl/diagnostics";
export { parse, parseClaim, type ParseResult, type Comment } from "./dsl/parse";
export { print, printStatement, printExpr, printRef, printValue, printFamily, printClaim } from "./dsl/printer";
export { format, type FormatResult } from "./dsl/format";
export { compileText, type CompileResult, type CompileOptions } from "./compiler/compile";
export * from "./compiler/ir";
export { paramsReport, reportJson, type ParamsReport, type ParamsRow } from "./compiler/report";
export { factorization, factorMath, derivationStep, encoderMath } from "./compiler/notation";
export { query, type QueryAnswer } from "./compiler/query";
export { toDot, pixelSvg, markovBlanket } from "./compiler/dot";
export { dSeparated, formatTrail } from "./compiler/dsep";
export { ElementGraph } from "./compiler/graph";
export { elementName, formatElements } from "./compiler/elements";
export {
  networkParams,
  mlpParams,
  nadeParams,
  pixelRnnParams,
  dcganGeneratorParams,
  dcganCriticParams,
  withCommas,
  scientific,
} from "./compiler/count";
