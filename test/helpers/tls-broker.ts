import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the broker. */
  otherCa: string;
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
};

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`], dir);
}

function makeSigned(dir: string, name: string, cn: string, ext?: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`];
  if (ext) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(args, dir);
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'me-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other');
  makeSigned(dir, 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  makeSigned(dir, 'client', 'mobilenet-edge-test');
  const f = (n: string): string => join(dir, n);
  return { dir, ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'), otherCa: f('other.crt') };
}

/** A mosquitto config for a TLS listener that wants a client certificate and a password. */
export function tlsBrokerConfig(tls: TlsFiles, port: number, user: string, password: string): string {
  const passwd = join(tls.dir, 'passwd');
  writeFileSync(passwd, '');
  execFileSync('mosquitto_passwd', ['-b', passwd, user, password], { stdio: 'ignore' });
  const conf = join(tls.dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'user root',
      `listener ${port} 127.0.0.1`,
      `cafile ${tls.ca}`,
      `certfile ${tls.serverCert}`,
      `keyfile ${tls.serverKey}`,
      'require_certificate true',
      'allow_anonymous false',
      `password_file ${passwd}`,
      '',
    ].join('\n'),
  );
  return conf;
}
