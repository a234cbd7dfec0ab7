// What the test chat sends when the analyst attaches a file: a description
// of a media message as WhatsApp's webhook gives it (kind, MIME type,
// caption, and a document's file name). The file itself is not uploaded —
// a flow never sees a media file's bytes, only this (reply.media).

export type MediaKind = 'image' | 'audio' | 'video' | 'document';

export interface MediaReply {
  kind: MediaKind;
  mime_type?: string;
  filename?: string;
  caption?: string;
}

/** kindOf is the kind WhatsApp delivers a file of this MIME type as: a document unless it is an image, audio or video. */
export function kindOf(mimeType: string): MediaKind {
  const top = mimeType.split('/')[0].toLowerCase();
  return top === 'image' || top === 'audio' || top === 'video' ? top : 'document';
}

/** MaxFilename is the server's bound on a document's name (ui/api_testchat.go). */
export const MaxFilename = 240;

/**
 * mediaOf describes a chosen file as the customer's media message: its
 * kind from its type; a file name only for a document (WhatsApp sends none
 * with an image, audio or video), cut to MaxFilename characters; the
 * caption if there is one. A file the browser has no type for is sent as a
 * generic document.
 */
export function mediaOf(file: { name: string; type: string }, caption = ''): MediaReply {
  const kind = kindOf(file.type);
  const out: MediaReply = { kind, mime_type: file.type || 'application/octet-stream' };
  if (kind === 'document') {
    const name = Array.from(file.name.split(/[/\\]/).pop()!.trim()).slice(0, MaxFilename).join('');
    if (name) out.filename = name;
  }
  if (caption.trim()) out.caption = caption;
  return out;
}

/** sizeText is a file's size as people read it. */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
