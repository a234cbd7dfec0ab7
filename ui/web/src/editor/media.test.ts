import { describe, expect, it } from 'vitest';
import { kindOf, MaxFilename, mediaOf, sizeText } from './media';

describe('a chosen file as a media message', () => {
  it('takes its kind from its MIME type', () => {
    expect(kindOf('image/png')).toBe('image');
    expect(kindOf('audio/ogg; codecs=opus')).toBe('audio');
    expect(kindOf('VIDEO/mp4')).toBe('video');
    expect(kindOf('application/pdf')).toBe('document');
    expect(kindOf('text/csv')).toBe('document');
    expect(kindOf('')).toBe('document');
  });
  it('names only a document, as WhatsApp does', () => {
    expect(mediaOf({ name: 'me.png', type: 'image/png' }, 'my parcel')).toEqual({ kind: 'image', mime_type: 'image/png', caption: 'my parcel' });
    expect(mediaOf({ name: 'prices.xlsx', type: 'application/vnd.ms-excel' })).toEqual({ kind: 'document', mime_type: 'application/vnd.ms-excel', filename: 'prices.xlsx' });
  });
  it('sends a file of no known type as a generic document', () => {
    expect(mediaOf({ name: 'notes', type: '' })).toEqual({ kind: 'document', mime_type: 'application/octet-stream', filename: 'notes' });
  });
  it('keeps a name the server accepts: no folders, not too long, blank caption left out', () => {
    expect(mediaOf({ name: 'C:\\Users\\ann\\bill.pdf', type: 'application/pdf' }, '  ').filename).toBe('bill.pdf');
    const long = mediaOf({ name: '📄'.repeat(300), type: 'application/pdf' }).filename!;
    expect(Array.from(long)).toHaveLength(MaxFilename);
  });
  it('says sizes as people read them', () => {
    expect(sizeText(900)).toBe('900 B');
    expect(sizeText(150 * 1024)).toBe('150 KB');
    expect(sizeText(4.25 * 1024 * 1024)).toBe('4.3 MB');
  });
});
