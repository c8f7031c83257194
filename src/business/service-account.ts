/**
 * GOOGLE_SERVICE_ACCOUNT_JSON: the service-account key Google issues
 * (https://cloud.google.com/iam/docs/keys-create-delete), inline or as a file path. Kept apart from
 * the calendar client so reading config does not load the Google libraries.
 */
import { readFileSync } from 'node:fs';

/** The fields of a service-account key file that signing needs. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

/**
 * GOOGLE_SERVICE_ACCOUNT_JSON as a key: inline JSON (starts with `{`) or the path of a key file.
 * @throws Error saying what is wrong (unreadable file, not JSON, missing client_email/private_key).
 */
export function loadServiceAccount(value: string): ServiceAccountKey {
  const text = value.trim().startsWith('{') ? value : readFileSync(value.trim(), 'utf8');
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(text) as Partial<ServiceAccountKey>;
  } catch {
    throw new Error('not valid JSON (expected the service-account key file Google gives you, inline or as a path)');
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new Error('expected a service-account key with client_email and private_key');
  }
  return { client_email: key.client_email, private_key: key.private_key, private_key_id: key.private_key_id };
}
