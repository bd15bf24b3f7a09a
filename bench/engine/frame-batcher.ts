import { Packr } from 'msgpackr';

/**
 * The floors' mailbox: numbers that arrive in one event-loop turn leave as one msgpackr frame (flushed
 * from setImmediate, copied into a transferred ArrayBuffer), and one frame of answers resolves them in
 * order. It is the sharded router's batching with nothing else: no sessions, no routing, no records.
 */
export class FrameBatcher {
  private mailbox: number[] = [];
  private waiting: ((value: number) => void)[] = [];
  private flushScheduled = false;
  frames = 0;

  constructor(private readonly send: (frame: ArrayBuffer) => Promise<ArrayBuffer>) {}

  call(value: number): Promise<number> {
    return new Promise((resolve) => {
      this.mailbox.push(value);
      this.waiting.push(resolve);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const values = this.mailbox;
    const waiting = this.waiting;
    this.mailbox = [];
    this.waiting = [];
    this.frames++;
    void this.send(packFrame(values)).then((answer) => {
      const results = unpackFrame(answer);
      for (let i = 0; i < waiting.length; i++) (waiting[i] as (value: number) => void)(results[i] as number);
    });
  };
}

const packr = new Packr({ useRecords: false });

export function packFrame(values: readonly number[]): ArrayBuffer {
  const packed = packr.pack(values);
  const buffer = new ArrayBuffer(packed.byteLength);
  new Uint8Array(buffer).set(packed);
  return buffer;
}

export function unpackFrame(buffer: ArrayBuffer): number[] {
  return packr.unpack(new Uint8Array(buffer)) as number[];
}

/** What both floor workers do with a frame: answer each number with the next one. */
export function answerFrame(buffer: ArrayBuffer): ArrayBuffer {
  return packFrame(unpackFrame(buffer).map((n) => n + 1));
}
