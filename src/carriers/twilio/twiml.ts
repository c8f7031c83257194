/**
 * TwiML answers for the voice webhook, built with the twilio SDK's VoiceResponse.
 * Source: https://www.twilio.com/docs/voice/twiml/stream, https://www.twilio.com/docs/voice/twiml/connect
 * (docs/protocols/twilio.md#twiml-connect-stream).
 */
import twilio from 'twilio';

export interface StreamTwimlParams {
  /** The server's public https base (PUBLIC_URL); the stream URL is its host with wss. */
  publicUrl: string;
  /** Per-call token the media socket must present in `start.customParameters.token`. */
  token: string;
  direction: 'inbound' | 'outbound';
  /** The remote party: From of an inbound call, To of an outbound one. */
  caller?: string;
  from?: string;
  to?: string;
}

/**
 * `wss://<PUBLIC_URL host[:port]>/media-stream`. Twilio drops query strings, so nothing per call
 * goes in the URL (https://www.twilio.com/docs/voice/twiml/stream); PUBLIC_URL's path prefix is kept.
 */
export function mediaStreamUrl(publicUrl: string): string {
  const u = new URL(publicUrl);
  const prefix = u.pathname.replace(/\/+$/, '');
  return `wss://${u.host}${prefix}/media-stream`;
}

/**
 * `<Response><Connect><Stream url=…><Parameter …/></Stream></Connect><Hangup/></Response>`.
 * `<Hangup/>` after `</Connect>` makes "server closed the socket" end the call (https://www.twilio.com/docs/voice/twiml/connect).
 */
export function connectStreamTwiml(p: StreamTwimlParams): string {
  const vr = new twilio.twiml.VoiceResponse();
  const stream = vr.connect().stream({ url: mediaStreamUrl(p.publicUrl) });
  stream.parameter({ name: 'token', value: p.token });
  stream.parameter({ name: 'direction', value: p.direction });
  if (p.caller) stream.parameter({ name: 'caller', value: p.caller });
  if (p.from) stream.parameter({ name: 'from', value: p.from });
  if (p.to) stream.parameter({ name: 'to', value: p.to });
  vr.hangup();
  return vr.toString();
}

/** A spoken message then `<Hangup/>`: used when the call cannot be taken (busy, misconfigured). */
export function sayAndHangupTwiml(message: string): string {
  const vr = new twilio.twiml.VoiceResponse();
  vr.say(message);
  vr.hangup();
  return vr.toString();
}

/** `<Response><Dial>number</Dial></Response>` for a live-call transfer (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource). */
export function dialTwiml(number: string): string {
  const vr = new twilio.twiml.VoiceResponse();
  vr.dial(number);
  return vr.toString();
}
