// WhatsApp's error codes in plain words, for the people who see a message
// fail (agents in the inbox, analysts in the conversations log): what
// happened and what to do, not Graph API text. The codes and what Parley
// does about each are in docs/whatsapp.md ("Error codes").

const words: Record<number, string> = {
  4: 'WhatsApp is refusing calls from Parley for a minute (too many); it is sent again by itself.',
  100: 'WhatsApp refused the message as malformed.',
  190: 'Parley’s access to WhatsApp has expired: an admin must renew the access token.',
  368: 'The WhatsApp account is temporarily blocked for policy violations.',
  130429: 'Too many messages at once from this number; it is sent again by itself.',
  130472: 'WhatsApp kept this customer out of marketing messages (an experiment of Meta’s).',
  130497: 'This business may not message customers in that country.',
  131000: 'WhatsApp had a problem on its side; it is sent again by itself.',
  131005: 'Parley’s access to the WhatsApp account was refused: an admin must check its permissions.',
  131008: 'Something the message needs is missing.',
  131009: 'A value in the message is not accepted.',
  131016: 'WhatsApp is unavailable right now; it is sent again by itself.',
  131021: 'The customer’s number is the business’s own.',
  131026: 'The customer cannot receive WhatsApp messages (not on WhatsApp, an old app, or terms not accepted).',
  131030: 'This customer is not on the test number’s list of allowed recipients.',
  131031: 'The WhatsApp business account is locked: an admin must contact Meta.',
  131037: 'The number’s display name is not approved yet.',
  131042: 'The WhatsApp account has a payment or eligibility problem: an admin must check billing.',
  131045: 'The business number is not registered properly.',
  131047: 'More than 24 hours have passed since the customer last wrote: only an approved template can be sent now.',
  131048: 'WhatsApp held back messages from this number as possible spam; sending is paused.',
  131049: 'WhatsApp did not deliver this marketing message to keep the customer’s inbox healthy; try again tomorrow.',
  131050: 'The customer stopped marketing messages from this business.',
  131051: 'WhatsApp does not support this kind of message.',
  131052: 'The customer’s media could not be downloaded.',
  131053: 'The media link could not be fetched by WhatsApp.',
  131056: 'Too many messages to this customer in a short time; it is sent again by itself.',
  131057: 'The number is in maintenance for a minute; it is sent again by itself.',
  131063: 'Marketing templates are turned off for this account.',
  131064: 'The number reached its messaging limit after template violations.',
  132000: 'The template was given the wrong number of values.',
  132001: 'The template does not exist in that language, or is not approved.',
  132005: 'The filled-in template is too long.',
  132007: 'The template breaks WhatsApp’s content rules.',
  132008: 'A template value is not accepted.',
  132012: 'A template value has the wrong format.',
  132015: 'The template is paused for low quality; try another or wait some hours.',
  132016: 'The template is disabled for low quality.',
  133010: 'The business number is not registered on WhatsApp.',
  137000: 'The customer’s WhatsApp identity changed; they need to write first.',
};

/** plainError says a failed send in words; the code stays for whoever looks it up. */
export function plainError(code?: number, raw?: string): string {
  if (code && words[code]) return `${words[code]} (code ${code})`;
  if (code) return `WhatsApp refused the message (code ${code}${raw ? ': ' + raw : ''}).`;
  return raw || 'The message could not be sent.';
}

/** plainSendError turns an API error from sending (the inbox's reply, template) into words. */
export function plainSendError(status: number, message: string): string {
  if (status === 409 && /window/.test(message)) return 'The customer last wrote more than 24 hours ago: only an approved template can be sent now.';
  if (status === 409) return 'This conversation is no longer with an agent (resolved or moved): reload it.';
  if (status === 422) return `WhatsApp would refuse this: ${message.replace(/^template blocked:\s*/i, '')}`;
  if (status === 403) return 'You may not act on this conversation (not in your queues).';
  if (status === 404) return 'This conversation is gone or not yours to see any more.';
  if (status === 429) return 'Too many messages at once; wait a moment and send again.';
  if (status >= 500) return 'Parley could not send it just now; try again in a moment.';
  return message;
}
