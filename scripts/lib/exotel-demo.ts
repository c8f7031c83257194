/**
 * The Exotel side of `npm run demo -- --carrier exotel`: the Exotel carrier emulator (flow: Voicebot
 * applet with the dynamic URL, then a Connect applet asking `/webhooks/exotel/connect`), its Connect
 * API mock, the EXOTEL_* configuration pointing at them, and the call placer for the simulator.
 */
import { ExotelCarrierEmulator } from '../../test/emulators/exotel-carrier';
import { startExotelRestMock, type ExotelRestMock } from '../../test/emulators/exotel-rest';
import { exotelId, exotelPlacer } from './exotel-call';
import type { SimulateCallOptions } from './simulate-call';

const ACCOUNT = 'callbridgedemo1';
const KEY = 'demo-exotel-key';
const TOKEN = 'demo-exotel-token-0123456789';
/** EXOTEL_WEBHOOK_TOKEN of the demo server; the emulated flow's applet URLs carry it, as a real flow's should. */
const WEBHOOK_TOKEN = 'demo-exotel-webhook-token-0123';

export interface ExotelDemo {
  carrier: ExotelCarrierEmulator;
  rest: ExotelRestMock;
  /** EXOTEL_* variables for the server (API base = the mock). */
  env: Record<string, string>;
  /** Simulator options that place the call on Exotel, once the server listens at `base`. */
  simOptions(base: string): Pick<SimulateCallOptions, 'placeCall' | 'callSid'>;
  close(): Promise<void>;
}

/** Start the emulated Exotel; `rate` (Hz) is EXOTEL_SAMPLE_RATE. */
export async function startExotelDemo(o: { speed: number; publicUrl: string; rate: string }): Promise<ExotelDemo> {
  const carrier = new ExotelCarrierEmulator({
    accountSid: ACCOUNT,
    speed: o.speed,
    connectUrl: `${o.publicUrl}/webhooks/exotel/connect`,
    webhookToken: WEBHOOK_TOKEN,
  });
  const rest = await startExotelRestMock({ carrier, accountSid: ACCOUNT, apiKey: KEY, apiToken: TOKEN });
  return {
    carrier,
    rest,
    env: {
      EXOTEL_ACCOUNT_SID: ACCOUNT,
      EXOTEL_API_KEY: KEY,
      EXOTEL_API_TOKEN: TOKEN,
      EXOTEL_CALLER_ID: '08047112345',
      EXOTEL_APP_ID: '926',
      EXOTEL_API_BASE: rest.url,
      EXOTEL_SAMPLE_RATE: o.rate,
      EXOTEL_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    },
    simOptions(base) {
      rest.answerWith({ serverBase: base, publicUrl: o.publicUrl });
      return { callSid: exotelId(), placeCall: exotelPlacer({ carrier, serverBase: base, publicUrl: o.publicUrl, from: '09876543210', to: '08047112345' }) };
    },
    async close() {
      await carrier.close();
      await rest.close();
    },
  };
}
