/**
 * The scripted agent both provider emulators play: a greeting, then one scripted reply per caller
 * turn, with real synthesized speech (8 kHz WAV fixtures) and fixed transcripts.
 */
import { join } from 'node:path';
import { readWav } from '../../src/audio/wav';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'audio');

export interface AgentTurn {
  text: string;
  /** PCM16 8 kHz samples of the spoken text. */
  samples: Int16Array;
}

export interface AgentScript {
  greeting: AgentTurn;
  /** Reply for caller turn n (0-based); the last one repeats. */
  replies: AgentTurn[];
  /** Scripted transcripts of the caller's turns, in order; the last one repeats. */
  userTranscripts: string[];
}

function clip(file: string, text: string): AgentTurn {
  const wav = readWav(join(FIXTURES, file));
  if (wav.sampleRate !== 8000) throw new Error(`${file}: expected 8 kHz, got ${wav.sampleRate}`);
  return { text, samples: wav.samples };
}

/** The default receptionist script, matching the committed fixtures' words. */
export function defaultScript(): AgentScript {
  return {
    greeting: clip('agent-greeting-8k.wav', 'Hello, thanks for calling. How can I help you today?'),
    replies: [
      clip(
        'agent-confirmation-8k.wav',
        'Great. I have booked you for tomorrow at ten in the morning. You will get a confirmation email shortly. Is there anything else?',
      ),
    ],
    userTranscripts: [
      'Hi, this is John from A Plumbing company. I would like to book an appointment for tomorrow at ten in the morning.',
      'Sorry to interrupt, actually can we make it the afternoon instead?',
    ],
  };
}

export function pick<T>(list: T[], n: number): T {
  return list[Math.min(n, list.length - 1)]!;
}

/** The first `share` (0–1) of `text`, cut back to a word boundary. */
export function cutText(text: string, share: number): string {
  const n = Math.round(text.length * Math.min(1, Math.max(0, share)));
  if (n >= text.length) return text;
  const cut = text.slice(0, n);
  const space = cut.lastIndexOf(' ');
  return (space > 0 ? cut.slice(0, space) : cut).trimEnd();
}
