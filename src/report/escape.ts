/** Escapes text for HTML/SVG element content and double-quoted attributes (& < > "). */
export function escapeXml(s: string | number): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
