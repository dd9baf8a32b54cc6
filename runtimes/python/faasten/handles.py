"""Handles: capabilities for one file-system object or blob, each used through a ``Syscall``."""
from faasten._wire import cloudcalls as wire

# One shared instance: Syscall._call knows an argument-less call by this identity and
# sends its frame prepared in advance.
_EMPTY = wire.Empty()

_KIND_NAMES = {
    wire.Kind.DIRECTORY: "directory", wire.Kind.FILE: "file", wire.Kind.FACETED_DIRECTORY: "faceted",
    wire.Kind.GATE: "gate", wire.Kind.SERVICE: "service", wire.Kind.BLOB: "blob",
}


class Dent:
    """A directory-entry handle: a capability for one object."""

    __slots__ = ("_sys", "fd", "kind", "label")

    def __init__(self, syscall, fd, kind, label):
        self._sys = syscall
        self.fd = fd
        self.kind = kind
        self.label = label or None

    def close(self):
        """Releases the handle (the root cannot be closed)."""
        if self.fd:
            self._sys.dent_close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<%s fd=%s label=%s>" % (self.__class__.__name__, self.fd, self.label)


class Directory(Dent):
    def ls(self):
        """``{name: kind}`` (taints with the directory's label)."""
        return self._sys.dent_list(self.fd)

    def open(self, name):
        """The entry ``name`` (taints with the directory's label)."""
        return self._sys._opened(self._sys._call(open=wire.Open(directory=self.fd, name=name)).opened)

    def open_at(self, components):
        """Opens a path given as a list of names (and facet label texts), returning the
        last handle; intermediate handles are closed."""
        current = self
        opened = []
        try:
            for component in components:
                current = current.open(component)
                opened.append(current)
        finally:
            for handle in opened[:-1]:
                handle.close()
        return current

    def link(self, target, name):
        self._sys.dent_link(self.fd, target.fd, name)

    def unlink(self, name):
        self._sys.dent_unlink(self.fd, name)

    def create_directory(self, name, label=None):
        return self._sys._create(wire.Create(directory=_EMPTY), label, self, name)

    def create_file(self, name, data=b"", label=None):
        return self._sys._create(wire.Create(file=bytes(data)), label, self, name)

    def create_faceted(self, name):
        return self._sys._create(wire.Create(faceted_directory=_EMPTY), None, self, name)

    def create_blob(self, name, blob, label=None):
        """A blob entry for a finalized or opened ``Blob``."""
        return self._sys._create(wire.Create(blob=blob.fd), label, self, name)


class FacetedDirectory(Dent):
    def ls(self, clearance=None):
        """The facet labels that flow to ``clearance`` (default T,T); taints with it."""
        return self._sys.dent_ls_faceted(self.fd, clearance)

    def open(self, label):
        """The facet at ``label`` (no taint)."""
        return self._sys._opened(self._sys._call(open=wire.Open(directory=self.fd, facet=label)).opened)


class File(Dent):
    def read(self):
        """The file's bytes (taints with its label)."""
        return self._sys.dent_read(self.fd)

    def write(self, data):
        """Replaces the bytes (the current label must flow to the file's)."""
        self._sys.dent_update_file(self.fd, data)


class BlobEntry(Dent):
    def get(self):
        """The blob, readable like a file (taints with the entry's label)."""
        info = self._sys._call(open_blob=wire.Handle(handle=self.fd)).blob
        return Blob(self._sys, info.handle, info.size)

    def update(self, blob):
        """Points the entry at another blob (a ``Blob`` or a ``NewBlob``, finalized here)."""
        if isinstance(blob, NewBlob):
            blob = blob.finalize()
        self._sys._call(update=wire.Update(handle=self.fd, blob=blob.fd))


class Gate(Dent):
    def invoke(self, payload=b"", sync=True, params=None, toblob=False):
        """Runs the gate's function; a synchronous result taints the caller."""
        return self._sys.dent_invoke(self.fd, payload, sync, params, toblob)

    def ls(self):
        """The gate's description (taints with its label)."""
        return self._sys.dent_ls_gate(self.fd)


class Service(Dent):
    def invoke(self, payload=b"", sync=True, params=None, toblob=False):
        """Calls the external service (URL parameters from ``params``)."""
        return self._sys.dent_invoke(self.fd, payload, sync, params, toblob)


_CLASSES = {
    wire.Kind.DIRECTORY: Directory, wire.Kind.FILE: File, wire.Kind.FACETED_DIRECTORY: FacetedDirectory,
    wire.Kind.GATE: Gate, wire.Kind.SERVICE: Service, wire.Kind.BLOB: BlobEntry,
}


class Blob:
    """A readable blob, used like a binary file: ``read``, ``seek``, ``tell``."""

    __slots__ = ("_sys", "fd", "size", "_position")

    def __init__(self, syscall, fd, size):
        self._sys = syscall
        self.fd = fd
        self.size = size
        self._position = 0

    def read(self, size=-1):
        if size is None or size < 0:
            size = self.size - self._position
        chunks = []
        while size > 0:
            chunk = self._sys.blob_read(self.fd, self._position, min(size, 4 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            self._position += len(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def seek(self, offset, whence=0):
        if whence == 0:
            position = offset
        elif whence == 1:
            position = self._position + offset
        elif whence == 2:
            position = self.size + offset
        else:
            raise ValueError("whence must be 0, 1 or 2")
        if position < 0:
            raise ValueError("negative position")
        self._position = position
        return position

    def tell(self):
        return self._position

    def __len__(self):
        return self.size

    def close(self):
        if self.fd:
            self._sys.blob_close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class NewBlob:
    """A blob being written: ``write`` chunks, then ``finalize`` for a readable ``Blob``."""

    __slots__ = ("_sys", "fd", "_final")

    def __init__(self, syscall, fd):
        self._sys = syscall
        self.fd = fd
        self._final = None

    def write(self, data):
        self._sys._call(blob_write=wire.BlobWrite(handle=self.fd, data=bytes(data)))
        return len(data)

    def finalize(self, _unused=None):
        """Makes the blob immutable; returns it as a readable ``Blob``."""
        if self._final is None:
            info = self._sys._call(blob_finalize=wire.BlobHandle(handle=self.fd)).blob
            self._final = Blob(self._sys, info.handle, info.size)
        return self._final

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if self._final is None:
            if kind is None:
                self.finalize()
            else:
                self._sys.blob_close(self.fd)
