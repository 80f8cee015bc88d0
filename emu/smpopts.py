"""-smp [[cpus=]N][,maxcpus=M][,sockets=S][,clusters=C][,cores=K][,threads=T] as QEMU
7.2 parses it for the virt board (its machine_parse_smp_config): omitted values
are computed from the given ones (cores preferred over sockets, as virt-6.2 and
later do), the hierarchy's product must be maxcpus, and cpus <= maxcpus.  The
board creates `cpus` CPUs (virt has no CPU hotplug: maxcpus only shapes the
topology, which the device tree's cpu-map shows)."""
from dataclasses import dataclass

MAX_CPUS = 8          # (QEMU's virt with a GICv2: 8; pyaarch64 has at most 8 either way)
KEYS = ("cpus", "maxcpus", "sockets", "dies", "clusters", "cores", "threads")


class SmpError(ValueError):
    pass


@dataclass(frozen=True)
class Topology:
    cpus: int = 1
    maxcpus: int = 1
    sockets: int = 1
    clusters: int = 1
    cores: int = 1
    threads: int = 1

    def path(self, cpu):
        """CPU `cpu`'s place in the device tree's cpu-map (QEMU's naming)."""
        if self.threads > 1:
            return (f"socket{cpu // (self.clusters * self.cores * self.threads)}",
                    f"cluster{(cpu // (self.cores * self.threads)) % self.clusters}",
                    f"core{(cpu // self.threads) % self.cores}", f"thread{cpu % self.threads}")
        return (f"socket{cpu // (self.clusters * self.cores)}",
                f"cluster{(cpu // self.cores) % self.clusters}", f"core{cpu % self.cores}")

    def hierarchy(self):
        return (f"sockets ({self.sockets}) * clusters ({self.clusters}) * cores ({self.cores}) "
                f"* threads ({self.threads})")


def default(n=1):
    return Topology(n, n, 1, 1, n, 1)


def parse_smp(text):
    """Topology of an -smp argument; SmpError with QEMU's words if it is invalid."""
    vals = {}
    for k, part in enumerate(text.split(",")):
        if not part:
            continue
        key, eq, v = part.partition("=")
        if not eq:
            if k:
                raise SmpError(f"Parameter 'smp.{part}' is unexpected")
            key, v = "cpus", part
        if key not in KEYS:
            raise SmpError(f"Parameter 'smp.{key}' is unexpected")
        if not v.isdigit():
            raise SmpError(f"Parameter 'smp.{key}' expects integer")
        vals[key] = int(v)
    if any(v == 0 for v in vals.values()):
        raise SmpError("CPU topology parameters must be greater than zero")
    if vals.get("dies", 1) != 1:
        raise SmpError("dies not supported by this machine's CPU topology")
    cpus, maxcpus = vals.get("cpus", 0), vals.get("maxcpus", 0)
    sockets, clusters = vals.get("sockets", 0), vals.get("clusters", 1)
    cores, threads = vals.get("cores", 0), vals.get("threads", 0)
    if cpus == 0 and maxcpus == 0:
        sockets, cores, threads = sockets or 1, cores or 1, threads or 1
    else:
        maxcpus = maxcpus or cpus
        if cores == 0:
            sockets, threads = sockets or 1, threads or 1
            cores = maxcpus // (sockets * clusters * threads)
        elif sockets == 0:
            threads = threads or 1
            sockets = maxcpus // (clusters * cores * threads)
        if threads == 0:
            threads = maxcpus // (sockets * clusters * cores)
    maxcpus = maxcpus or sockets * clusters * cores * threads
    cpus = cpus or maxcpus
    t = Topology(cpus, maxcpus, sockets, clusters, cores, threads)
    if sockets * clusters * cores * threads != maxcpus:
        raise SmpError(f"Invalid CPU topology: product of the hierarchy must match maxcpus: "
                       f"{t.hierarchy()} != maxcpus ({maxcpus})")
    if maxcpus < cpus:
        raise SmpError(f"Invalid CPU topology: maxcpus must be equal to or greater than smp: "
                       f"{t.hierarchy()} == maxcpus ({maxcpus}) < smp_cpus ({cpus})")
    if maxcpus > MAX_CPUS:
        raise SmpError(f"Number of SMP CPUs requested ({maxcpus}) exceeds max CPUs supported "
                       f"by machine 'mach-virt' ({MAX_CPUS})")
    return t
