/**
 * X-Twilio-Signature checks with the twilio SDK, always against PUBLIC_URL (never the Host or
 * X-Forwarded-* headers, which break behind tunnels and proxies).
 * Source: https://www.twilio.com/docs/usage/security#validating-requests (docs/protocols/twilio.md#signatures).
 */
import twilio from 'twilio';
import { mediaStreamUrl } from './twiml';

/** The URL Twilio signed for a webhook: PUBLIC_URL's origin and prefix + the request path and query. */
export function webhookUrl(publicUrl: string, originalUrl: string): string {
  return publicUrl.replace(/\/+$/, '') + originalUrl;
}

/**
 * True when `signature` is valid for a form webhook. `validateRequest` tries the URL with and
 * without the default port.
 */
export function webhookSignatureOk(authToken: string, signature: string | undefined, url: string, params: Record<string, unknown>): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params as Record<string, string>);
}

/**
 * True when the media-stream upgrade's signature is valid: URL = the `wss://` stream URL without
 * query, params `{}`, retried with a trailing slash (docs/protocols/twilio.md#signatures; https://www.twilio.com/docs/usage/security).
 */
export function upgradeSignatureOk(authToken: string, signature: string | undefined, publicUrl: string): boolean {
  if (!signature) return false;
  const url = mediaStreamUrl(publicUrl);
  return twilio.validateRequest(authToken, signature, url, {}) || twilio.validateRequest(authToken, signature, `${url}/`, {});
}
