/**
 * The Fedora macros a patched spec may use that other hosts' rpm lacks (Debian's rpm 4.18 has none of these), with
 * bodies good enough to parse a spec (rpmspec -P), not to build it. This is the one list: the parse check asks
 * rpm which of them the host already defines and supplies only the others. %{?fedora} and %{?rhel} are left
 * undefined on purpose: defining them would change which branches of a spec are parsed, and specs guard them.
 */
import type { Runner } from '../proc/runner.js';
import { withInstallHints } from './hints.js';

export const PARSE_FALLBACK_MACROS: ReadonlyArray<{ name: string; params?: string; body: string; why: string }> = [
  { name: 'dist', body: '%{nil}', why: 'Release: N%{dist} without the "?"' },
  { name: 'ldconfig_scriptlets', params: '(n:)', body: '%{nil}', why: 'Fedora makes %post/%postun -p /sbin/ldconfig with it' },
  { name: 'ldconfig_post', params: '(n:)', body: '%{nil}', why: 'as ldconfig_scriptlets' },
  { name: 'ldconfig_postun', params: '(n:)', body: '%{nil}', why: 'as ldconfig_scriptlets' },
  { name: 'build_ldflags', body: '-Wl,-z,relro -Wl,-z,now', why: "Fedora's linker flags, used in %build" },
  { name: '_modulesloaddir', body: '/usr/lib/modules-load.d', why: "systemd's modules-load.d" },
  { name: '_pkgdocdir', body: '%{_docdir}/%{name}', why: 'used by %install of Fedora specs' },
  { name: '__perl', body: '/usr/bin/perl', why: 'PLD and Fedora call Configure through it' },
  {
    name: 'autorelease',
    params: '(e:s:pb:n)',
    body: '%{?-p:0.}%{?-b:%{-b*}}%{!?-b:1}%{?-e:.%{-e*}}%{?-s:.%{-s*}}%{!?-n:%{?dist}}',
    why: "rpmautospec's Release (its fallback when rpmautospec is absent)",
  },
  { name: 'autochangelog', body: '%{nil}', why: "rpmautospec's generated %changelog" },
];

/** Which fallbacks the host's rpm lacks, asked in one `rpm --eval`. */
export async function missingParseMacros(runner: Runner): Promise<typeof PARSE_FALLBACK_MACROS> {
  const probe = PARSE_FALLBACK_MACROS.map((m) => `%{?${m.name}:1}%{!?${m.name}:0}`).join(' ');
  const result = await withInstallHints(['rpm'], () => runner.capture(['rpm', '--eval', probe]));
  const defined = result.stdout.trim().split(/\s+/);
  if (result.exitCode !== 0 || defined.length !== PARSE_FALLBACK_MACROS.length) return PARSE_FALLBACK_MACROS;
  return PARSE_FALLBACK_MACROS.filter((_, i) => defined[i] !== '1');
}

/** --define arguments for rpmspec/rpmbuild. */
export function defineArgs(macros: typeof PARSE_FALLBACK_MACROS): string[] {
  return macros.flatMap((m) => ['--define', `${m.name}${m.params ?? ''} ${m.body}`]);
}

/** The same as [name(params), body] pairs, for an engine's defines. */
export function definePairs(macros: typeof PARSE_FALLBACK_MACROS): Array<[string, string]> {
  return macros.map((m) => [`${m.name}${m.params ?? ''}`, m.body]);
}
