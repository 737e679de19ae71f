import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isPortFree, livePidFromFile, run, sleep, stopChild, stopPid } from './processes'
import { errorMessage } from '../app/utils/errors'

export interface LocalCephOptions {
  /** Holds the cluster; kept across restarts when `store` is bluestore. */
  dataDir: string
  s3Port: number
  monPort: number
  /** memstore: in memory, fresh each start (tests). bluestore: a sparse file on disk (development). */
  store: 'memstore' | 'bluestore'
  log?: (line: string) => void
}

export interface LocalCeph {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  stop(): Promise<void>
}

interface ClusterState {
  fsid: string
  osdUuid: string
  accessKeyId: string
  secretAccessKey: string
}

const DAEMONS = ['client.rgw', 'osd.0', 'mon.a'] as const

/**
 * Starts a single-node Ceph cluster (one monitor, one OSD, no manager) and a RADOS Gateway serving
 * S3 on 127.0.0.1. The first start creates the cluster and an S3 user; later starts reuse both.
 * Daemons left behind by a crashed run of the same data directory are stopped first.
 */
export async function startLocalCeph(options: LocalCephOptions): Promise<LocalCeph> {
  const dir = path.resolve(options.dataDir)
  const log = options.log ?? (() => {})
  const confPath = path.join(dir, 'ceph.conf')
  const statePath = path.join(dir, 'cluster.json')

  await stopLeftovers(dir, confPath, log)
  for (const port of [options.s3Port, options.monPort]) {
    if (!(await isPortFree(port))) {
      throw new Error(
        `Port ${port} on 127.0.0.1 is taken, so the local Ceph cannot start. Stop whatever listens there ` +
          `(ss -ltnp | grep ${port}) or point S3_ENDPOINT at another S3.`,
      )
    }
  }

  let state = options.store === 'bluestore' ? await readState(statePath) : null
  const fresh = state === null
  if (!state) {
    await rm(dir, { recursive: true, force: true })
    state = {
      fsid: randomUUID(),
      osdUuid: randomUUID(),
      accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    }
  }
  for (const sub of ['run', 'log', 'mon', 'osd']) await mkdir(path.join(dir, sub), { recursive: true })
  await writeFile(confPath, cephConf(dir, state.fsid, options))
  const conf = ['-c', confPath]
  const keyring = path.join(dir, 'keyring')

  const children: ChildProcess[] = []
  const stop = async () => {
    // Gateway first, monitor last: the others report to it while shutting down.
    for (const child of [...children].reverse()) await stopChild(child)
  }
  const daemon = (name: (typeof DAEMONS)[number], command: string, args: string[]) => {
    const child = spawn(command, [...conf, '-f', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    // Our own pid files, so a later start can find and stop what a crashed run left behind.
    if (child.pid) void writeFile(path.join(dir, 'run', `${name}.pid`), `${child.pid}\n`)
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) log(`${command} exited with ${code}: ${stderr.trim()}`)
    })
    children.push(child)
    return child
  }

  try {
    if (fresh) {
      log(`creating a single-node Ceph cluster in ${dir}`)
      const caps: [string, string[]][] = [
        ['mon.', ['mon', 'allow *']],
        ['client.admin', ['mon', 'allow *', 'osd', 'allow *', 'mgr', 'allow *']],
        ['osd.0', ['mon', 'allow profile osd', 'osd', 'allow *', 'mgr', 'allow profile osd']],
        ['client.rgw', ['mon', 'allow rw', 'osd', 'allow rwx']],
      ]
      for (const [i, [name, capList]] of caps.entries()) {
        const capArgs = []
        for (let c = 0; c < capList.length; c += 2) capArgs.push('--cap', capList[c]!, capList[c + 1]!)
        await run('ceph-authtool', [
          keyring,
          ...(i === 0 ? ['--create-keyring'] : []),
          '--gen-key',
          '-n',
          name,
          ...capArgs,
        ])
      }
      const monmap = path.join(dir, 'monmap')
      await run('monmaptool', [
        '--create',
        '--fsid',
        state.fsid,
        '--addv',
        'a',
        `[v2:127.0.0.1:${options.monPort}]`,
        monmap,
      ])
      await run('ceph-mon', [...conf, '--mkfs', '-i', 'a', '--monmap', monmap])
    }
    daemon('mon.a', 'ceph-mon', ['-i', 'a'])
    if (fresh) {
      await run('ceph', [...conf, '--connect-timeout', '20', 'osd', 'new', state.osdUuid, '0'], {
        timeoutMs: 30_000,
      })
      await mkdir(path.join(dir, 'osd', 'ceph-0'), { recursive: true })
      await run('ceph-osd', [...conf, '-i', '0', '--mkfs', '--osd-uuid', state.osdUuid], {
        timeoutMs: 120_000,
      })
    }
    daemon('osd.0', 'ceph-osd', ['-i', '0'])
    const rgw = daemon('client.rgw', 'radosgw', ['-n', 'client.rgw'])
    const endpoint = `http://127.0.0.1:${options.s3Port}`
    await waitForHttp(endpoint, rgw, 90_000)
    if (fresh) {
      await run(
        'radosgw-admin',
        [
          ...conf,
          'user',
          'create',
          '--uid=product-images',
          '--display-name=product-images',
          `--access-key=${state.accessKeyId}`,
          `--secret-key=${state.secretAccessKey}`,
        ],
        { timeoutMs: 60_000 },
      )
      // Written last: a cluster.json means the cluster finished initialising.
      if (options.store === 'bluestore') await writeFile(statePath, JSON.stringify(state, null, 2))
    }
    log(`Ceph RGW ready at ${endpoint}`)
    return { endpoint, accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey, stop }
  } catch (error) {
    await stop()
    const tail = await readFile(path.join(dir, 'log', 'client.rgw.log'), 'utf8').catch(() => '')
    throw new Error(
      `The local Ceph did not start: ${errorMessage(error)}` +
        (tail ? `\nLast lines of ${dir}/log/client.rgw.log:\n${tail.split('\n').slice(-15).join('\n')}` : ''),
    )
  }
}

async function stopLeftovers(dir: string, confPath: string, log: (line: string) => void) {
  for (const name of DAEMONS) {
    const pid = await livePidFromFile(path.join(dir, 'run', `${name}.pid`), confPath)
    if (pid) {
      log(`stopping ${name} (pid ${pid}) left behind by an earlier run`)
      await stopPid(pid)
    }
  }
}

/** The S3 keys of a local cluster that already runs (started by another process on this data). */
export async function readLocalCephCredentials(dataDir: string) {
  const state = await readState(path.join(path.resolve(dataDir), 'cluster.json'))
  return state ? { accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey } : null
}

async function readState(file: string): Promise<ClusterState | null> {
  const text = await readFile(file, 'utf8').catch(() => null)
  return text ? (JSON.parse(text) as ClusterState) : null
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`radosgw exited with ${child.exitCode}`)
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status < 500,
      () => false,
    )
    if (ok) return
    await sleep(100)
  }
  throw new Error(`radosgw did not answer at ${url} within ${timeoutMs / 1000} s`)
}

function cephConf(dir: string, fsid: string, options: LocalCephOptions) {
  const store =
    options.store === 'memstore'
      ? ['osd objectstore = memstore', 'memstore device bytes = 8589934592']
      : [
          'osd objectstore = bluestore',
          `bluestore block path = ${dir}/osd/ceph-0.img`,
          'bluestore block create = true',
          'bluestore block size = 21474836480',
          'bluestore fsck on mount = false',
          'bluestore cache size = 134217728',
          'osd memory target = 939524096',
        ]
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${options.monPort}
mon initial members = a
keyring = ${dir}/keyring
ms bind ipv6 = false
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
# one OSD, no replicas, no manager
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
# without this a single monitor waits a second per proposal and start-up takes ~13 s
paxos propose interval = 0.01
client mount timeout = 30
${store.join('\n')}

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${options.s3Port}
rgw lc debug interval = ${process.env.LOCAL_CEPH_LC_DEBUG_INTERVAL ?? '-1'}
${gcConf(process.env.LOCAL_CEPH_GC_SECONDS)}
`
}

/**
 * RGW frees a deleted object's data in a garbage collection pass, by default two hours after the delete.
 * LOCAL_CEPH_GC_SECONDS shortens both waits, so a benchmark that deletes what it wrote gets the
 * in-memory store's room back between runs.
 */
function gcConf(seconds: string | undefined) {
  const wait = Number(seconds)
  if (!seconds || !Number.isInteger(wait) || wait < 1) return ''
  return `rgw gc obj min wait = ${wait}\nrgw gc processor period = ${wait}`
}
