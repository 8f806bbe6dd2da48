/**
 * Fedora guards the ENGINE API with a build condition (`%bcond engine %[!(0%{?rhel} >= 10)]` since it deprecated
 * engines): off, the headers define OPENSSL_NO_ENGINE and the engine subpackage disappears. A devcrypto build
 * needs it on unconditionally. Older specs spell it %bcond_with (off by default) / %bcond_without (on).
 */
import type { SpecEditor } from './editor.js';

export function enableEngineBcond(editor: SpecEditor): void {
  const lines = editor.lines();
  lines.forEach((line, i) => {
    let m = /^(\s*%bcond\s+engine\s+)(.*?)\s*$/.exec(line);
    if (m) {
      if (m[2] === '1') {
        editor.unchanged.push('%bcond engine is already on');
        return;
      }
      const touched = editor.replace(i, `${m[1]}1`);
      editor.record(
        {
          kind: 'bcond',
          what: `%bcond engine ${m[2]} → 1`,
          why: 'with the engine condition off (its default where the expression is false) the ENGINE API and engines are left out; the devcrypto engine needs it on',
        },
        [touched],
      );
      return;
    }
    m = /^(\s*%)bcond_(with|without)(\s+engine)\s*$/.exec(line);
    if (!m) return;
    if (m[2] === 'without') {
      editor.unchanged.push('%bcond_without engine: the engine condition is already on by default');
      return;
    }
    const touched = editor.replace(i, `${m[1]}bcond_without${m[3]}`);
    editor.record(
      {
        kind: 'bcond',
        what: '%bcond_with engine → %bcond_without engine',
        why: '%bcond_with leaves the engine condition off by default; the devcrypto engine needs it on',
      },
      [touched],
    );
  });
}
