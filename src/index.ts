/**
 * ssnat-rewrite as a library. Whole files: `rewriteFile`, `verifyFile`
 * (resolving to the report the CLI prints with --report json). Record by
 * record: `openCapture` (an async iterable reader), `createTranslator`,
 * `createVerifier`, `RecordWriter`. Rules: `parseRule`, `parseRulesFile`.
 * Reports: `renderHtmlReport` (the page `--report html` writes).
 * Errors are `SsnatError`s with a `code`, an `exitCode` and, for bad input,
 * the byte offset and frame.
 */
export { rewriteFile, verifyFile, openCapture, createTranslator, createVerifier, RecordWriter } from './api.js';
export type { RewriteFileOptions, VerifyFileOptions, RuleInput, RecordVerifier, RecordTranslator } from './api.js';
export { parseRule, parseRulesFile, validateRuleSet, formatPrefix } from './nat/rules.js';
export type { Rule, Prefix, Scope, Family, TunnelScope, TunnelKind } from './nat/rules.js';
export { parseMacRule } from './nat/mac.js';
export type { MacRule } from './nat/mac.js';
export type { ChecksumsFixed } from './nat/fixsum.js';
export type { Direction } from './nat/table.js';
export type { TunnelSettings } from './wire/tunnel.js';
export { CaptureReader } from './capture/reader.js';
export type { ReaderOptions } from './capture/reader.js';
export { CaptureRecord, RecordKind, BlockType } from './capture/record.js';
export type { CaptureFormat, InterfaceInfo, BlockOption } from './capture/record.js';
export type { CaptureInterface } from './capture/interface.js';
export type { WriterOptions } from './capture/writer.js';
export type { TranslateResult } from './nat/translate.js';
export type { VerifierOptions } from './verify/verifier.js';
export type { Report, MultiReport, Finding, Collision, CheckName, Severity, Verdict, Timeline, Lane, FlowPacket } from './report/model.js';
export { renderHtmlReport } from './report/html.js';
export type { HtmlReportLimits } from './report/html.js';
export { CHECK_SEVERITY } from './report/model.js';
export { SsnatError, CaptureError, RuleError, UsageError, OutputError, formatError } from './errors.js';
export { VERSION } from './version.js';
