"""``Syscall``: the CloudCalls of one invocation, by handle and by path."""
from faasten._channel import ChannelClosed, frame as _frame
from faasten._wire import cloudcalls as wire
from faasten.errors import InvalidArgumentError, WrongKindError, _raise
from faasten.handles import (_CLASSES, _EMPTY, _KIND_NAMES, Blob, BlobEntry, Dent, Directory, FacetedDirectory, File, Gate,
                              NewBlob, Service)

_VERBS = {"HEAD": wire.Verb.HEAD, "GET": wire.Verb.GET, "POST": wire.Verb.POST, "PUT": wire.Verb.PUT,
          "DELETE": wire.Verb.DELETE}

# Calls without arguments are the same bytes every time: framed once, here.
_CONSTANT_CALLS = {name: _frame(wire.GuestMessage(call=wire.Call(**{name: _EMPTY})))
                   for name in ("get_current_label", "get_privilege", "get_clearance", "root", "blob_create")}


class Syscall:
    """The CloudCall interface of one invocation."""

    def __init__(self, channel):
        self._channel = channel

    def _call(self, **call):
        (name, value), = call.items()
        if value is _EMPTY:
            self._channel.send_frame(_CONSTANT_CALLS[name])
        else:
            self._channel.send(wire.GuestMessage(call=wire.Call(**call)))
        message = self._channel.receive()
        result = message.result
        if result is None:
            goodbye = message.goodbye
            raise ChannelClosed(goodbye.error.message if goodbye and goodbye.error else "unexpected host message")
        error = result.error
        if error is not None and error.code:
            _raise(error)
        return result

    def _opened(self, opened):
        return _CLASSES.get(opened.kind, Dent)(self, opened.handle, opened.kind, opened.label)

    def _create(self, create, label, directory=None, name=None):
        if label:
            create.label = label
        if directory is not None:
            create.link = wire.LinkAs(directory=directory.fd, name=name)
        return self._opened(self._call(create=create).opened)

    # Labels and privileges.

    def get_current_label(self):
        """The invocation's current label."""
        return self._call(get_current_label=_EMPTY).label

    def taint_with_label(self, label):
        """Raises the current label to include ``label``; returns the new label."""
        return self._call(taint=wire.Taint(label=label)).label

    def buckle_parse(self, text):
        """The canonical form of a label, or None if it does not parse."""
        try:
            return self._call(parse_label=wire.ParseLabel(text=text)).label
        except InvalidArgumentError:
            return None

    def declassify(self, secrecy):
        """Lowers the current secrecy to ``secrecy`` if the privilege allows it."""
        return self._call(declassify=wire.Declassify(secrecy=secrecy)).label

    def endorse(self, with_priv=None):
        """Adds the privilege (or the part ``with_priv``) to the current integrity."""
        return self._call(endorse=wire.Endorse(privilege=with_priv or "")).label

    def sub_privilege(self, *suffix, base=None):
        """The sub-principal ``base/suffix…`` of the privilege, as a component."""
        return self._call(sub_privilege=wire.SubPrivilege(base=base or "", suffix=list(suffix))).component

    def get_privilege(self):
        return self._call(get_privilege=_EMPTY).component

    def get_clearance(self):
        return self._call(get_clearance=_EMPTY).label

    # Handles.

    def root(self):
        """The root directory."""
        return self._opened(self._call(root=_EMPTY).opened)

    def resolve(self, path):
        """The object at a path such as ``home:<alice,alice>:photos``, ``~:x`` or ``%:y``."""
        return self._opened(self._call(resolve=wire.Resolve(path=path)).opened)

    def dent_open(self, fd, name=None, facet=None):
        request = wire.Open(directory=fd, facet=facet) if facet is not None else wire.Open(directory=fd, name=name)
        return self._opened(self._call(open=request).opened)

    def dent_close(self, fd):
        self._call(close=wire.Handle(handle=fd))

    def dent_list(self, fd):
        listing = self._call(list=wire.Handle(handle=fd)).listing
        return {entry.name: _KIND_NAMES.get(entry.kind, "unknown") for entry in listing.entries}

    def dent_ls_faceted(self, fd, clearance=None):
        return list(self._call(list_facets=wire.ListFacets(handle=fd, clearance=clearance or "")).labels.labels)

    def dent_read(self, fd):
        return self._call(read=wire.Handle(handle=fd)).data

    def dent_update_file(self, fd, data):
        self._call(update=wire.Update(handle=fd, file=bytes(data)))

    def dent_link(self, directory_fd, target_fd, name):
        self._call(link=wire.Link(directory=directory_fd, name=name, target=target_fd))

    def dent_unlink(self, directory_fd, name):
        self._call(unlink=wire.Unlink(directory=directory_fd, name=name))

    def dent_create_dir(self, label=None):
        return self._create(wire.Create(directory=_EMPTY), label)

    def dent_create_file(self, label=None, data=b""):
        return self._create(wire.Create(file=bytes(data)), label)

    def dent_create_faceted(self):
        return self._create(wire.Create(faceted_directory=_EMPTY), None)

    def dent_create_blob(self, label, blob):
        return self._create(wire.Create(blob=blob.fd), label)

    def dent_create_direct_gate(self, label, privilege, clearance="T", memory=128, app_image=None, runtime="python3",
                                timeout_ms=30000, declassify=None, fresh=False, concurrency=0):
        spec = wire.GateSpec(
            function=wire.FunctionSpec(runtime=runtime, image=app_image.fd, memory_mb=memory, timeout_ms=timeout_ms,
                                       fresh=fresh, concurrency=concurrency),
            privilege=privilege, invoker_clearance=clearance, declassify=declassify or "")
        return self._create(wire.Create(gate=spec), label)

    def dent_create_redirect_gate(self, label, privilege, clearance, gate, declassify=None):
        spec = wire.GateSpec(redirect=gate.fd, privilege=privilege, invoker_clearance=clearance,
                             declassify=declassify or "")
        return self._create(wire.Create(gate=spec), label)

    def dent_create_service(self, label, privilege, clearance, taint, url, verb="GET", headers=None):
        spec = wire.ServiceSpec(privilege=privilege, invoker_clearance=clearance, taint=taint, url=url,
                                verb=_VERBS[verb.upper()], headers=dict(headers or {}))
        return self._create(wire.Create(service=spec), label)

    def dent_update_gate(self, fd, **changes):
        """Changes fields of a gate: privilege, invoker_clearance, declassify, image (a
        BlobEntry), runtime, memory_mb, timeout_ms, fresh, concurrency, redirect (a Gate)."""
        update = wire.GateUpdate()
        for key, value in changes.items():
            if key in ("image", "redirect"):
                value = value.fd
            setattr(update, key, value)
        self._call(update=wire.Update(handle=fd, gate=update))

    def dent_ls_gate(self, fd):
        info = self._call(read_gate=wire.Handle(handle=fd)).gate
        description = {"privilege": info.privilege, "invoker_clearance": info.invoker_clearance,
                       "declassify": info.declassify, "redirect": info.redirect}
        if not info.redirect:
            description.update(runtime=info.runtime, memory_mb=info.memory_mb, timeout_ms=info.timeout_ms,
                               fresh=info.fresh, concurrency=info.concurrency,
                               image=Blob(self, info.image, info.image_size))
        return description

    def dent_ls_service(self, fd):
        spec = self._call(read_service=wire.Handle(handle=fd)).service
        verb = {value: name for name, value in _VERBS.items()}.get(spec.verb, "GET")
        return {"privilege": spec.privilege, "invoker_clearance": spec.invoker_clearance, "taint": spec.taint,
                "url": spec.url, "verb": verb, "headers": dict(spec.headers)}

    def dent_invoke(self, fd, payload=b"", sync=True, params=None, toblob=False):
        """Invokes a gate or service: ``{"status", "data" | "blob", "headers", "id"}``."""
        if isinstance(payload, str):
            payload = payload.encode()
        result = self._call(invoke=wire.Invoke(handle=fd, sync=sync, payload=bytes(payload), to_blob=toblob,
                                               parameters=dict(params or {}))).invoked
        outcome = {"status": result.status, "headers": dict(result.headers), "id": result.invocation_id}
        if toblob:
            outcome["blob"] = Blob(self, result.blob, result.blob_size)
        else:
            outcome["data"] = result.data
        return outcome

    # Blobs.

    def create_blob(self):
        """A new blob to write; use as a context manager, or call ``finalize``."""
        return NewBlob(self, self._call(blob_create=_EMPTY).blob.handle)

    def blob_read(self, fd, offset=0, length=0):
        return self._call(blob_read=wire.BlobRead(handle=fd, offset=offset, length=length)).data

    def blob_close(self, fd):
        self._call(blob_close=wire.BlobHandle(handle=fd))

    # Path helpers (the original's path-based API). A path is a string such as
    # "home:<alice,alice>:photos:cat.jpg"; "~" is the caller's home facet and "%" the
    # facet of the current label.

    def _parent_and_name(self, path):
        parent, _, name = path.rpartition(":")
        if not name:
            raise InvalidArgumentError("the path %r does not end with a name" % path, "INVALID_ARGUMENT")
        # A one-name path is in the root, which has no path of its own.
        directory = self.resolve(parent) if parent else self.root()
        if isinstance(directory, FacetedDirectory):
            # Names under a faceted directory go into the facet of the current label.
            facet = directory.open(self.get_current_label())
            directory.close()
            directory = facet
        return directory, name

    def _create_at(self, path, create, label):
        directory, name = self._parent_and_name(path)
        try:
            if not label and not isinstance(create.faceted_directory, wire.Empty):
                # The original endorsed what it created with the function's privilege.
                self.endorse()
            return self._create(create, label, directory, name)
        finally:
            directory.close()

    def fs_read(self, path):
        """A file's bytes."""
        with self.resolve(path) as handle:
            return _expect_file(handle, path).read()

    def fs_write(self, path, data):
        """Replaces a file's bytes."""
        with self.resolve(path) as handle:
            _expect_file(handle, path).write(data)

    def fs_list(self, path=""):
        """``{name: kind}`` of a directory."""
        with self.resolve(path) as handle:
            if not isinstance(handle, (Directory, FacetedDirectory)):
                raise _wrong_kind(handle, path, "directory")
            return handle.ls()

    def fs_faceted_list(self, path, clearance=None):
        with self.resolve(path) as handle:
            if not isinstance(handle, FacetedDirectory):
                raise _wrong_kind(handle, path, "faceted")
            return handle.ls(clearance)

    def fs_createdir(self, path, label=None):
        """Creates a directory (default label: the current one, endorsed)."""
        return self._create_at(path, wire.Create(directory=_EMPTY), label)

    def fs_createfile(self, path, label=None, data=b""):
        """Creates a file (default label: the current one, endorsed)."""
        return self._create_at(path, wire.Create(file=bytes(data)), label)

    def fs_createfaceted(self, path):
        return self._create_at(path, wire.Create(faceted_directory=_EMPTY), None)

    def fs_delete(self, path):
        """Removes a name from its directory."""
        directory, name = self._parent_and_name(path)
        with directory:
            directory.unlink(name)

    def fs_hardlink(self, source, destination):
        """Links the object at ``source`` as ``destination`` too."""
        directory, name = self._parent_and_name(destination)
        with directory, self.resolve(source) as target:
            directory.link(target, name)

    def fs_openblob(self, path):
        """The blob behind a blob entry, readable like a file."""
        with self.resolve(path) as entry:
            if not isinstance(entry, BlobEntry):
                raise _wrong_kind(entry, path, "blob")
            return entry.get()

    def fs_linkblob(self, path, blob, label=None):
        """Creates a blob entry for ``blob`` (a ``Blob`` or a finalized ``NewBlob``)."""
        if isinstance(blob, NewBlob):
            blob = blob.finalize()
        return self._create_at(path, wire.Create(blob=blob.fd), label)

    def fs_creategate(self, path, privilege, image_path, clearance="T", label=None, memory=128, runtime="python3",
                      timeout_ms=30000, declassify=None):
        """Creates a direct gate running the image at ``image_path`` (a blob entry)."""
        with self.resolve(image_path) as image:
            spec = wire.GateSpec(
                function=wire.FunctionSpec(runtime=runtime, image=image.fd, memory_mb=memory, timeout_ms=timeout_ms),
                privilege=privilege, invoker_clearance=clearance, declassify=declassify or "")
            return self._create_at(path, wire.Create(gate=spec), label)

    def fs_createredirectgate(self, path, privilege, gate_path, clearance="T", label=None, declassify=None):
        with self.resolve(gate_path) as gate:
            spec = wire.GateSpec(redirect=gate.fd, privilege=privilege, invoker_clearance=clearance,
                                 declassify=declassify or "")
            return self._create_at(path, wire.Create(gate=spec), label)

    def fs_createservice(self, path, privilege, taint, url, verb="GET", headers=None, clearance="T", label=None):
        spec = wire.ServiceSpec(privilege=privilege, invoker_clearance=clearance, taint=taint, url=url,
                                verb=_VERBS[verb.upper()], headers=dict(headers or {}))
        return self._create_at(path, wire.Create(service=spec), label)

    def invoke(self, path, payload=b"", sync=False, params=None):
        """Invokes the gate at ``path`` (asynchronous by default, as in the original)."""
        with self.resolve(path) as gate:
            if not isinstance(gate, (Gate, Service)):
                raise _wrong_kind(gate, path, "gate")
            return gate.invoke(payload, sync, params)

    def invoke_service(self, path, payload=b"", params=None, toblob=False):
        with self.resolve(path) as service:
            if not isinstance(service, Service):
                raise _wrong_kind(service, path, "service")
            return service.invoke(payload, True, params, toblob)


def _wrong_kind(handle, path, expected):
    # A typed error with the monitor's code for a wrong kind (not an AttributeError),
    # naming the kind as the wire and the JavaScript SDK do ("faceted", not the class).
    kind = _KIND_NAMES.get(handle.kind, "unknown kind of object")
    return WrongKindError("%s is a %s, not a %s" % (path, kind, expected), "WRONG_KIND")


def _expect_file(handle, path):
    if not isinstance(handle, File):
        raise _wrong_kind(handle, path, "file")
    return handle
