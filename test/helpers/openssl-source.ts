/**
 * Upstream OpenSSL 3.0 for the tests: the orig tarball of Debian's openssl source package (upstream's release),
 * fetched once with an apt state of the suite's own (deb-src lines for the host's Debian mirror) and cached.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { debianSourcesFor, parseAptSources } from '../../src/kernel/debian.js';
import { TEST_CACHE } from './cli.js';

const SOURCES = join(TEST_CACHE, 'openssl-source');

function hostSources() {
  const files = [
    '/etc/apt/sources.list',
    ...(existsSync('/etc/apt/sources.list.d')
      ? readdirSync('/etc/apt/sources.list.d')
          .filter((f) => /\.(list|sources)$/.test(f))
          .map((f) => join('/etc/apt/sources.list.d', f))
      : []),
  ];
  return files.filter(existsSync).flatMap((f) => parseAptSources(readFileSync(f, 'utf8')));
}

/** Debian's openssl orig tarball (upstream's release), fetched once with an apt state of the test's own. */
export async function opensslTarball(): Promise<string> {
  const have = existsSync(SOURCES) ? readdirSync(SOURCES).find((f) => /^openssl_3\.0\.\d+\.orig\.tar\.gz$/.test(f)) : undefined;
  if (have) return join(SOURCES, have);
  const apt = join(TEST_CACHE, 'apt-src');
  mkdirSync(join(apt, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(apt, 'cache'), { recursive: true });
  mkdirSync(SOURCES, { recursive: true });
  const codename = /VERSION_CODENAME=(\S+)/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'bookworm';
  const lines = debianSourcesFor(hostSources(), codename).flatMap((s) =>
    s.suites.map((suite) => `deb-src ${s.signedBy ? `[signed-by=${s.signedBy}] ` : ''}${s.uri} ${suite} ${s.components.join(' ')}`),
  );
  writeFileSync(join(apt, 'sources.list'), `${lines.join('\n')}\n`);
  const o = (k: string, v: string) => ['-o', `${k}=${v}`];
  const opts = [
    ...o('Dir::State::Lists', join(apt, 'lists')),
    ...o('Dir::State::status', '/dev/null'),
    ...o('Dir::Etc::SourceList', join(apt, 'sources.list')),
    ...o('Dir::Etc::SourceParts', '/nonexistent'),
    ...o('Dir::Cache', join(apt, 'cache')),
    ...o('APT::Sandbox::User', 'root'),
  ];
  await execa('apt-get', [...opts, 'update'], { reject: false });
  // The security suite's .dsc has been seen missing while its orig tarball downloads: only the tarball matters.
  await execa('apt-get', [...opts, 'source', '--download-only', 'openssl'], { cwd: SOURCES, reject: false });
  const got = readdirSync(SOURCES).find((f) => /^openssl_3\.0\.\d+\.orig\.tar\.gz$/.test(f));
  if (!got) throw new Error(`apt-get source openssl fetched no openssl_3.0.*.orig.tar.gz into ${SOURCES}`);
  return join(SOURCES, got);
}

/** "3.0.22" from ".../openssl_3.0.22.orig.tar.gz". */
export function tarballVersion(tarball: string): string {
  return /openssl_(\d+\.\d+\.\d+)\.orig\.tar\.gz$/.exec(tarball)![1]!;
}

/** A spec of our own for the upstream tarball, laid out like Fedora's (not a distribution's spec). */
export function opensslTestSpec(version: string): string {
  return `# armkit test spec for upstream OpenSSL ${version}, in Fedora's layout. Not a distribution's spec.
%global soversion 3
Name:           openssl
Version:        ${version}
Release:        1%{?dist}
Epoch:          1
Summary:        Upstream OpenSSL, built by the armkit test suite
License:        Apache-2.0
URL:            https://www.openssl.org/
Source0:        openssl_%{version}.orig.tar.gz
BuildRequires:  make perl

%description
Upstream OpenSSL for armkit's tests.

%package libs
Summary:        OpenSSL libraries

%description libs
libcrypto, libssl and the engines.

%prep
%setup -q -n openssl-%{version}

%build
sslarch=linux-generic64
%ifarch aarch64
sslarch=linux-aarch64
%endif
%ifarch %{arm}
sslarch=linux-armv4
%endif
%ifarch x86_64
sslarch=linux-x86_64
%endif
./Configure \\
	--prefix=%{_prefix} --openssldir=%{_sysconfdir}/pki/tls --libdir=%{_lib} \\
	shared no-tests \${sslarch}
make %{?_smp_mflags} build_sw

%install
make DESTDIR=%{buildroot} install_sw install_ssldirs
rm -rf %{buildroot}%{_includedir} %{buildroot}%{_libdir}/pkgconfig %{buildroot}%{_libdir}/*.a
rm -f %{buildroot}%{_libdir}/libcrypto.so %{buildroot}%{_libdir}/libssl.so %{buildroot}%{_bindir}/c_rehash
rm -rf %{buildroot}%{_sysconfdir}/pki/tls/*.dist %{buildroot}%{_sysconfdir}/pki/tls/misc
rm -rf %{buildroot}%{_libdir}/cmake

%files
%{_bindir}/openssl

%files libs
%dir %{_sysconfdir}/pki/tls
%dir %{_sysconfdir}/pki/tls/certs
%dir %{_sysconfdir}/pki/tls/private
%config(noreplace) %{_sysconfdir}/pki/tls/openssl.cnf
%config(noreplace) %{_sysconfdir}/pki/tls/ct_log_list.cnf
%{_libdir}/libcrypto.so.%{soversion}
%{_libdir}/libssl.so.%{soversion}
%{_libdir}/engines-%{soversion}
%{_libdir}/ossl-modules

%changelog
* Fri Nov 27 2026 armkit tests <tests@armkit.invalid> - 1:${version}-1
- Test build
`;
}
