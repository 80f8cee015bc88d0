"""Kernel loading: ELF (entry from the file) or raw binary (start of RAM)."""
import os

ELF_MAGIC = b"\x7fELF"


class KernelError(ValueError):
    pass


def load_kernel(board, path):
    """Load `path` into the board's memory; returns (entry, image_end)."""
    if not os.path.exists(path):
        raise KernelError(f"could not load kernel '{path}': No such file or directory")
    if os.path.isdir(path):
        raise KernelError(f"could not load kernel '{path}': Is a directory")
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise KernelError(f"could not load kernel '{path}': file is empty")
    if data[:4] == ELF_MAGIC:
        return _load_elf(board, path, data)
    base = board.ram_base
    if len(data) > board.ram_size:
        raise KernelError(f"could not load kernel '{path}': {len(data)} bytes do not fit in "
                          f"{board.ram_size >> 20} MiB of RAM")
    board.write_memory(base, data)
    return base, base + len(data)


def _load_elf(board, path, data):
    import io
    from elftools.elf.elffile import ELFFile
    from elftools.common.exceptions import ELFError
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf.get_machine_arch() != "AArch64":
            raise KernelError(f"could not load kernel '{path}': ELF is for "
                              f"{elf.get_machine_arch()}, not AArch64")
        if elf.elfclass != 64 or not elf.little_endian:
            raise KernelError(f"could not load kernel '{path}': not a 64-bit little-endian ELF")
        end = 0
        loaded = 0
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            pa, filesz, memsz = seg["p_paddr"], seg["p_filesz"], seg["p_memsz"]
            if pa < board.ram_base or pa + memsz > board.ram_base + board.ram_size:
                raise KernelError(
                    f"could not load kernel '{path}': segment at 0x{pa:x}-0x{pa + memsz:x} "
                    f"is outside RAM (0x{board.ram_base:x}-0x{board.ram_base + board.ram_size:x})")
            body = seg.data()
            if len(body) < filesz:
                raise KernelError(f"could not load kernel '{path}': truncated ELF segment")
            board.write_memory(pa, body[:filesz] + bytes(memsz - filesz))
            end = max(end, pa + memsz)
            loaded += 1
        if not loaded:
            raise KernelError(f"could not load kernel '{path}': ELF has no loadable segments")
        return elf.header["e_entry"], end
    except ELFError as e:
        raise KernelError(f"could not load kernel '{path}': malformed ELF ({e})") from None
    except (ValueError, KeyError, IndexError, OSError, EOFError) as e:
        if isinstance(e, KernelError):
            raise
        raise KernelError(f"could not load kernel '{path}': malformed ELF ({e})") from None


def elf_symbols(path):
    """{address: (name, size)} of the ELF's function symbols (for -d in_asm), or {}."""
    try:
        from elftools.elf.elffile import ELFFile
        with open(path, "rb") as f:
            if f.read(4) != ELF_MAGIC:
                return {}
            f.seek(0)
            elf = ELFFile(f)
            tab = elf.get_section_by_name(".symtab")
            if tab is None:
                return {}
            out = {}
            for s in tab.iter_symbols():
                if s["st_info"]["type"] in ("STT_FUNC", "STT_NOTYPE") and s.name and s["st_value"]:
                    if not s.name.startswith("$"):
                        out.setdefault(s["st_value"], (s.name, s["st_size"]))
            return out
    except Exception:   # noqa: BLE001 -- symbols are a nicety for logs
        return {}
