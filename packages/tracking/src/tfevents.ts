import { appendFileSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { maskedCrc32c } from './crc32c.js';

// The subset of TensorFlow's event.proto / summary.proto and TensorBoard's hparams plugin
// (plugin_data.proto, api.proto) that scalar and hparams logging needs, field numbers as upstream.
const PROTO = `
syntax = "proto3";
package msmoe.tb;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what { string file_version = 3; Summary summary = 5; SessionLog session_log = 7; }
}
message SessionLog { int32 status = 1; string checkpoint_path = 2; string msg = 3; }
message Summary { repeated Value value = 1;
  message Value {
    string node_name = 7; string tag = 1; SummaryMetadata metadata = 9;
    oneof value { float simple_value = 2; }
  }
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1; string display_name = 2; string summary_description = 3;
}
message HParamsPluginData {
  int32 version = 1;
  oneof data { Experiment experiment = 2; SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4; }
}
message Experiment { string name = 6; repeated HParamInfo hparam_infos = 4; repeated MetricInfo metric_infos = 5; }
message HParamInfo { string name = 1; string display_name = 2; int32 type = 4; }
message MetricName { string group = 1; string tag = 2; }
message MetricInfo { MetricName name = 1; string display_name = 3; }
message SessionStartInfo { map<string, PbValue> hparams = 1; string group_name = 4; double start_time_secs = 5; }
message SessionEndInfo { int32 status = 1; double end_time_secs = 2; }
message PbValue { oneof kind { int32 null_value = 1; double number_value = 2; string string_value = 3; bool bool_value = 4; } }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const EventMsg = root.lookupType('msmoe.tb.Event');
const PluginDataMsg = root.lookupType('msmoe.tb.HParamsPluginData');

/** One decoded scalar. */
export interface ScalarRecord {
  tag: string;
  step: number;
  value: number;
  wallTime: number;
}

/** Frames one record as TFRecord: length (u64 LE), masked CRC of the length, data, masked CRC of the data. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/**
 * Reads the records of a TFRecord file, checking both CRCs of each; a bad CRC or a truncated
 * record throws an error naming the byte offset.
 */
export function readRecords(bytes: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  while (o < bytes.length) {
    if (o + 12 > bytes.length) throw new Error(`tfevents: truncated record header at byte ${o}`);
    const len = Number(view.getBigUint64(o, true));
    if (view.getUint32(o + 8, true) !== maskedCrc32c(bytes.subarray(o, o + 8)))
      throw new Error(`tfevents: bad length CRC at byte ${o}`);
    if (o + 12 + len + 4 > bytes.length) throw new Error(`tfevents: truncated record at byte ${o}`);
    const data = bytes.subarray(o + 12, o + 12 + len);
    if (view.getUint32(o + 12 + len, true) !== maskedCrc32c(data))
      throw new Error(`tfevents: bad data CRC at byte ${o}`);
    records.push(data);
    o += 12 + len + 4;
  }
  return records;
}

/**
 * Appends TensorBoard events to `events.out.tfevents.<time>.<host>` in a run folder: scalars
 * (`simple_value`) and an hparams session (the HPARAMS tab). Each call appends whole records, so
 * a crash leaves a readable file.
 */
export class TfEventsWriter {
  constructor(readonly path: string) {
    this.write({ wall_time: Date.now() / 1000, step: 0, file_version: 'brain.Event:2' });
  }

  private write(event: Record<string, unknown>): void {
    const data = EventMsg.encode(EventMsg.fromObject(event)).finish();
    appendFileSync(this.path, frameRecord(data));
  }

  /**
   * Marks a restart at `step` (TensorBoard's `SessionLog.START`): TensorBoard then drops the
   * events of earlier files at `step` or later, so a curve resumed from a checkpoint does not fold
   * back over the steps logged between that checkpoint and the crash.
   */
  restart(step: number, message = 'resumed from a checkpoint'): void {
    this.write({
      wall_time: Date.now() / 1000,
      step,
      session_log: { status: 1, msg: message },
    });
  }

  /** Writes scalars for one step. */
  scalars(step: number, values: Record<string, number>, wallTime = Date.now() / 1000): void {
    const value = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([tag, v]) => ({ tag, simple_value: v }));
    if (value.length) this.write({ wall_time: wallTime, step, summary: { value } });
  }

  /** Writes one hparams-plugin record (`_hparams_/<kind>`) at step 0. */
  private hparamsRecord(kind: 'session_start_info' | 'session_end_info', data: object): void {
    const content = PluginDataMsg.encode(
      PluginDataMsg.fromObject({ version: 0, [kind]: data }),
    ).finish();
    this.write({
      wall_time: Date.now() / 1000,
      step: 0,
      summary: {
        value: [
          {
            tag: `_hparams_/${kind}`,
            metadata: { plugin_data: { plugin_name: 'hparams', content } },
          },
        ],
      },
    });
  }

  /** Ends the hparams session (TensorBoard's `STATUS_SUCCESS` = 1, `STATUS_FAILURE` = 2). */
  sessionEnd(status: 'success' | 'failure'): void {
    this.hparamsRecord('session_end_info', {
      status: status === 'success' ? 1 : 2,
      end_time_secs: Date.now() / 1000,
    });
  }

  /** Writes the run's hyperparameters (TensorBoard's hparams plugin, session start). */
  hparams(values: Record<string, string | number | boolean>, groupName = ''): void {
    const hparams: Record<string, Record<string, unknown>> = {};
    for (const [k, v] of Object.entries(values))
      hparams[k] =
        typeof v === 'number'
          ? { number_value: v }
          : typeof v === 'boolean'
            ? { bool_value: v }
            : { string_value: v };
    this.hparamsRecord('session_start_info', {
      hparams,
      group_name: groupName,
      start_time_secs: Date.now() / 1000,
    });
  }
}

/** Reads an event file back: its scalars and hparams, checking every record's CRCs. */
export function readTfEvents(path: string): {
  fileVersion: string | null;
  scalars: ScalarRecord[];
  hparams: Record<string, string | number | boolean>;
  /** Steps of `SessionLog.START` records (restarts). */
  restarts: number[];
} {
  const out = {
    fileVersion: null as string | null,
    restarts: [] as number[],
    scalars: [] as ScalarRecord[],
    hparams: {} as Record<string, string | number | boolean>,
  };
  for (const rec of readRecords(new Uint8Array(readFileSync(path)))) {
    const e = EventMsg.toObject(EventMsg.decode(rec), { longs: Number }) as {
      wall_time: number;
      step?: number;
      file_version?: string;
      session_log?: { status?: number };
      summary?: {
        value?: {
          tag: string;
          simple_value?: number;
          metadata?: { plugin_data?: { plugin_name: string; content: Uint8Array } };
        }[];
      };
    };
    if (e.file_version) out.fileVersion = e.file_version;
    if (e.session_log?.status === 1) out.restarts.push(e.step ?? 0);
    for (const v of e.summary?.value ?? []) {
      if (v.simple_value !== undefined)
        out.scalars.push({
          tag: v.tag,
          step: e.step ?? 0,
          value: v.simple_value,
          wallTime: e.wall_time,
        });
      const pd = v.metadata?.plugin_data;
      if (pd?.plugin_name === 'hparams') {
        const d = PluginDataMsg.toObject(PluginDataMsg.decode(pd.content)) as {
          session_start_info?: {
            hparams?: Record<string, Record<string, string | number | boolean>>;
          };
        };
        for (const [k, val] of Object.entries(d.session_start_info?.hparams ?? {}))
          out.hparams[k] = Object.values(val)[0] as string | number | boolean;
      }
    }
  }
  return out;
}

/**
 * The scalars of a run folder's event files as TensorBoard shows them: files in name (time)
 * order, and a `SessionLog.START` at step s drops the earlier events at step s or later.
 */
export function readRunScalars(files: string[]): ScalarRecord[] {
  let out: ScalarRecord[] = [];
  for (const f of [...files].sort()) {
    const { scalars, restarts } = readTfEvents(f);
    for (const r of restarts) out = out.filter((x) => x.step < r);
    out.push(...scalars);
  }
  return out;
}
