using System.Diagnostics;
using System.Buffers;
using System.Buffers.Binary;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;
using RocksDbSharp;

namespace Meteora.Net.Storage;

/// <summary>
/// A replica's store on RocksDB with group commit. <see cref="Write"/> applies the put on the caller
/// (the event loop) with an unsynced WAL append, so the value is visible to <see cref="TryGet"/> at
/// once; its completion token goes to a dedicated I/O thread, which takes every token queued so far,
/// fsyncs the WAL once for all of them and reports them in submission order to the sink. Writes
/// arriving together therefore share one fsync, and the loop never waits for the disk.
/// <para>
/// A failed WAL sync leaves written-but-not-durable values visible, which the contract forbids; the
/// store then fails every outstanding and later operation and raises <see cref="Faulted"/> so the host
/// can stop the process (fail-stop, as after a failed fsync nothing about the page cache can be trusted).
/// </para>
/// <para>
/// A full disk is not fatal. <see cref="Guard"/> refuses writes (not applied, so not visible, reported
/// as failed) while free space is below its reserve. A write that still meets ENOSPC is not applied
/// either, but RocksDB's WAL writer stays broken after it, so the next sync fails too: that is fatal
/// only if the batch holds a write that was applied; otherwise every write in it had failed already,
/// and the store reopens the database once space is back and no applied write waits for a sync.
/// </para>
/// </summary>
public sealed class RocksDbStorage : IStorage, IDisposable
{
    public const string DataFamily = "data";
    public const string HintsFamily = "hints";
    public const string MetadataFamily = "meta";

    /// <summary>Metadata key holding the data family's key layout version (u32 big-endian).</summary>
    public const string FormatMetadataKey = "storage-format";

    /// <summary>Format 2: data keys are (partition, token high 64, key), see <see cref="StorageKeys"/>. Format 1 (no metadata) was (partition, key).</summary>
    public const uint CurrentFormat = 2;

    /// <summary>Operations waiting for their sync before <see cref="Write"/> refuses more (the engine's own bound is far lower).</summary>
    public const int MaxPendingOperations = 1_000_000;

    private RocksDb _db;
    private ColumnFamilyHandle _data;
    private ColumnFamilyHandle _hints;
    private ColumnFamilyHandle _metadata;

    /// <summary>Held by the I/O thread around a WAL sync and by the loop thread around a reopen.</summary>
    private readonly object _dbLock = new();
    private volatile bool _walBroken;
    private long _appliedUnsynced;
    private long _reopens;
    private readonly WriteOptions _appendWithoutSync = new WriteOptions().SetSync(false);
    private readonly WriteOptions _appendAndSync = new WriteOptions().SetSync(true);
    private readonly IStorageCompletionSink _sink;
    private readonly ValueCache _values;
    private readonly Thread _ioThread;
    private readonly object _gate = new(); // Monitor: the I/O thread waits on it for work
    private List<PendingOperation> _queued = new();
    private bool _stopping;
    private volatile bool _faulted;
    private long _syncCount;
    private long _completedCount;
    private long _writeCount;
    private long _writeFailureCount;
    private bool _disposed;

    private RocksDbStorage(RocksDb db, IStorageCompletionSink sink, string path, DiskSpaceGuard guard, long valueCacheBytes)
    {
        _db = db;
        _values = new ValueCache(valueCacheBytes);
        Guard = guard;
        _data = db.GetColumnFamily(DataFamily);
        _hints = db.GetColumnFamily(HintsFamily);
        _metadata = db.GetColumnFamily(MetadataFamily);
        _sink = sink;
        Path = path;
        _ioThread = new Thread(RunIoThread) { IsBackground = true, Name = "meteora-storage-io" };
        _ioThread.Start();
    }

    public string Path { get; }

    /// <summary>WAL syncs done so far; with group commit far fewer than completions under load.</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    public long CompletedCount => Interlocked.Read(ref _completedCount);

    /// <summary>Writes and purges applied (visible, not yet durable) and refused; counted only by the event loop, read by metrics.</summary>
    public long WriteCount => Volatile.Read(ref _writeCount);
    public long WriteFailureCount => Volatile.Read(ref _writeFailureCount);

    /// <summary>The decoded-value cache in front of the data family (loop thread only).</summary>
    internal ValueCache Values => _values;

    /// <summary>Group-commit figures, observed on the I/O thread after each sync; set before the first write.</summary>
    public Metrics.StorageMetrics? Metrics { get; set; }

    public bool IsFaulted => _faulted;

    /// <summary>Refuses writes while the disk is (nearly) full.</summary>
    public DiskSpaceGuard Guard { get; }

    /// <summary>Times the database was reopened after a write met a full disk.</summary>
    public long Reopens => Interlocked.Read(ref _reopens);

    /// <summary>Null while client writes may be taken; otherwise why not (a full disk, or a failed store).</summary>
    public string? WriteRefusal => _faulted ? "storage failed: a WAL sync failed and the node is stopping" : Guard.Refusal();

    /// <summary>Raised once, on the I/O thread, when a WAL sync fails.</summary>
    public event Action<Exception>? Faulted;

    /// <param name="valueCacheBytes">Bound of the decoded-value cache in front of the data family (tests use tiny ones to force eviction).</param>
    public static RocksDbStorage Open(string path, IStorageCompletionSink sink, DiskSpaceGuard? guard = null, long valueCacheBytes = RocksDbMemory.ValueCacheBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(sink);
        Directory.CreateDirectory(path);
        RocksDb db = OpenDb(path);
        try
        {
            RequireCurrentFormat(db, path);
        }
        catch
        {
            db.Dispose();
            throw;
        }
        return new RocksDbStorage(db, sink, path, guard ?? new DiskSpaceGuard(path), valueCacheBytes);
    }

    /// <summary>Memtables, block cache (with index and filter blocks) and table readers, as RocksDB counts them.</summary>
    public RocksDbMemoryUsage MemoryUsage()
    {
        lock (_dbLock)
        {
            if (_disposed) return default;
            // The block cache is shared by every family, so one family's figure is the whole cache.
            return new RocksDbMemoryUsage(AllFamilies("rocksdb.cur-size-all-mem-tables"), Property("rocksdb.block-cache-usage", _data),
                AllFamilies("rocksdb.estimate-table-readers-mem"), _values.SizeBytes);
        }
    }

    private long AllFamilies(string name) => Property(name, _data) + Property(name, _hints) + Property(name, _metadata);

    private long Property(string name, ColumnFamilyHandle family) =>
        long.TryParse(_db.GetProperty(name, family), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : 0;

    private static RocksDb OpenDb(string path)
    {
        var options = RocksDbMemory.Apply(new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true));
        Cache blockCache = Cache.CreateLru(RocksDbMemory.BlockCacheBytes);
        var families = new ColumnFamilies
        {
            { DataFamily, RocksDbMemory.Family(RocksDbMemory.DataWriteBufferBytes, blockCache) },
            { HintsFamily, RocksDbMemory.Family(RocksDbMemory.HintsWriteBufferBytes, blockCache) },
            { MetadataFamily, RocksDbMemory.Family(RocksDbMemory.MetadataWriteBufferBytes, blockCache) },
        };
        RocksDb db;
        try
        {
            db = RocksDb.Open(options, path, families);
        }
        catch (RocksDbException e)
        {
            throw new IOException($"cannot open RocksDB at {path}: {e.Message}", e);
        }
        return db;
    }

    /// <summary>
    /// A database with no data gets the current format; one holding data in another format is refused,
    /// since its keys would be read under the wrong layout (scans would miss or misdecode them).
    /// </summary>
    private static void RequireCurrentFormat(RocksDb db, string path)
    {
        ColumnFamilyHandle metadata = db.GetColumnFamily(MetadataFamily);
        byte[] formatKey = System.Text.Encoding.UTF8.GetBytes(FormatMetadataKey);
        byte[]? stored = db.Get(formatKey, metadata);
        if (stored is not null && stored.Length == 4 && BinaryPrimitives.ReadUInt32BigEndian(stored) == CurrentFormat) return;
        bool hasData;
        using (Iterator iterator = db.NewIterator(db.GetColumnFamily(DataFamily)))
        {
            iterator.SeekToFirst();
            hasData = iterator.Valid();
        }
        if (!hasData)
        {
            // New, or never written: nothing to misread, so it is (now) in the current format.
            var value = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(value, CurrentFormat);
            db.Put(formatKey, value, metadata, new WriteOptions().SetSync(true));
            return;
        }
        string found = stored is null ? "storage format 1 (keys ordered by partition, key)"
            : stored.Length == 4 ? $"storage format {BinaryPrimitives.ReadUInt32BigEndian(stored)}"
            : $"an unreadable storage format ({stored.Length}-byte marker)";
        throw new StorageFormatException(
            $"data directory {path} uses {found}; this version needs storage format {CurrentFormat} "
            + "(keys ordered by partition, token, key: one Merkle leaf per contiguous range); "
            + "move the directory aside and let anti-entropy refill the node");
    }

    public bool TryGet(int partition, string key, out StoredValue value)
    {
        if (_values.TryGet(partition, key, out value)) return true;
        Span<byte> encodedKey = stackalloc byte[StorageKeys.MaxEncodedBytes];
        int length = StorageKeys.Encode(partition, key, encodedKey);
        StoredValue? found = _db.Get(encodedKey[..length], StoredValueDeserializer.Instance, _data);
        value = found!;
        if (found is null) return false;
        _values.Set(partition, key, found);
        return true;
    }

    public void Write(int partition, string key, StoredValue value, long completionToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        bool applied = false;
        if (ReadyToWrite())
        {
            Span<byte> encodedKey = stackalloc byte[StorageKeys.MaxEncodedBytes];
            int keyLength = StorageKeys.Encode(partition, key, encodedKey);
            int valueLength = StoredValueCodec.EncodedSize(value);
            byte[] encodedValue = ArrayPool<byte>.Shared.Rent(valueLength);
            try
            {
                StoredValueCodec.Encode(value, encodedValue);
                _db.Put(encodedKey[..keyLength], encodedValue.AsSpan(0, valueLength), _data, _appendWithoutSync);
                applied = true;
                _values.Set(partition, key, value);
            }
            catch (RocksDbException)
            {
                // Not applied, so not visible: report it as failed, in order, through the queue.
                _walBroken = true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(encodedValue);
            }
        }
        Count(applied);
        Enqueue(new PendingOperation(completionToken, applied));
    }

    private void Count(bool applied)
    {
        if (applied) Volatile.Write(ref _writeCount, _writeCount + 1);
        else Volatile.Write(ref _writeFailureCount, _writeFailureCount + 1);
    }

    public void Sync(long completionToken) => Enqueue(new PendingOperation(completionToken, !_faulted && !_walBroken, Barrier: true));

    /// <summary>
    /// On the loop thread, before a write: false (refuse it) while the store failed or the disk is
    /// full; after a write met a full disk, reopens the database first, once space is back and no
    /// applied write still waits for its sync (that one's sync decides whether the store fails).
    /// </summary>
    private bool ReadyToWrite()
    {
        if (_faulted || Guard.Refusal() is not null) return false;
        if (!_walBroken) return true;
        if (Interlocked.Read(ref _appliedUnsynced) > 0) return false;
        lock (_dbLock)
        {
            try
            {
                _values.Clear();
                _db.Dispose();
                _db = OpenDb(Path);
                _data = _db.GetColumnFamily(DataFamily);
                _hints = _db.GetColumnFamily(HintsFamily);
                _metadata = _db.GetColumnFamily(MetadataFamily);
            }
            catch (IOException e)
            {
                Fail(e); // the database is closed: nothing can be served any more
                return false;
            }
            _walBroken = false;
            Interlocked.Increment(ref _reopens);
            return true;
        }
    }

    /// <summary>
    /// Up to <paramref name="maxCount"/> entries of <paramref name="partition"/> whose token-high-64 is in
    /// <paramref name="range"/>, strictly after <paramref name="afterKey"/> (null: from the range's start)
    /// in <see cref="StorageOrder"/>, which is RocksDB's order within the partition's prefix: one seek,
    /// then an iteration that stops at the end of the range.
    /// </summary>
    public int Scan(int partition, TokenRange range, string? afterKey, List<KeyValuePair<string, StoredValue>> output, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (maxCount <= 0) return 0;
        byte[] seekKey;
        bool skipSeekKey = false;
        ulong afterToken = afterKey is null ? 0 : StorageOrder.TokenHigh64(afterKey);
        if (afterKey is not null && afterToken > range.Last) return 0;
        if (afterKey is not null && afterToken >= range.First)
        {
            Span<byte> encoded = stackalloc byte[StorageKeys.MaxEncodedBytes];
            seekKey = encoded[..StorageKeys.Encode(partition, afterKey, encoded)].ToArray();
            skipSeekKey = true;
        }
        else
        {
            seekKey = new byte[StorageKeys.PrefixBytes];
            StorageKeys.EncodePrefix(partition, range.First, seekKey);
        }
        int added = 0;
        using Iterator iterator = _db.NewIterator(_data);
        iterator.Seek(seekKey);
        while (iterator.Valid() && added < maxCount)
        {
            byte[] key = iterator.Key();
            if (key.Length < StorageKeys.PartitionPrefixBytes || !key.AsSpan(0, StorageKeys.PartitionPrefixBytes).SequenceEqual(seekKey.AsSpan(0, StorageKeys.PartitionPrefixBytes)))
            {
                break; // past the partition's contiguous range
            }
            (_, ulong tokenHigh64, string decodedKey) = StorageKeys.Decode(key);
            if (tokenHigh64 > range.Last) break; // past the token range
            if (!skipSeekKey || !key.AsSpan().SequenceEqual(seekKey))
            {
                output.Add(new KeyValuePair<string, StoredValue>(decodedKey, StoredValueCodec.Decode(iterator.Value())));
                added++;
            }
            skipSeekKey = false; // only the first entry can be the cursor itself
            iterator.Next();
        }
        return added;
    }

    /// <summary>Removes a tombstone past its grace period if the key still holds exactly that tombstone; completes like a write.</summary>
    public void Purge(int partition, string key, WriteVersion tombstone, long completionToken)
    {
        bool ok = ReadyToWrite();
        if (ok && TryGet(partition, key, out StoredValue current) && current.IsTombstone && current.Version == tombstone)
        {
            Span<byte> encodedKey = stackalloc byte[StorageKeys.MaxEncodedBytes];
            int keyLength = StorageKeys.Encode(partition, key, encodedKey);
            try
            {
                _db.Remove(encodedKey[..keyLength], _data, _appendWithoutSync);
                _values.Remove(partition, key);
            }
            catch (RocksDbException)
            {
                ok = false;
                _walBroken = true;
            }
            Count(ok);
        }
        Enqueue(new PendingOperation(completionToken, ok));
    }

    /// <summary>
    /// Removes the whole partition with one range tombstone (RocksDB DeleteRange over the partition's
    /// 4-byte prefix); visible at once, completes like a write.
    /// </summary>
    public void DropPartition(int partition, long completionToken)
    {
        if (partition < 0) throw new ArgumentOutOfRangeException(nameof(partition), partition, "partition must be non-negative");
        bool ok = ReadyToWrite();
        if (ok)
        {
            var start = new byte[StorageKeys.PartitionPrefixBytes];
            var end = new byte[StorageKeys.PartitionPrefixBytes];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(start, (uint)partition);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(end, (uint)partition + 1);
            try
            {
                using var batch = new WriteBatch();
                batch.DeleteRange(start, (ulong)start.Length, end, (ulong)end.Length, _data);
                _db.Write(batch, _appendWithoutSync);
                _values.RemovePartition(partition);
            }
            catch (RocksDbException)
            {
                ok = false;
                _walBroken = true;
            }
            Count(ok);
        }
        Enqueue(new PendingOperation(completionToken, ok));
    }

    public bool SupportsHints => true;

    /// <summary>A hint goes to the hints family through the same WAL and group commit as data: acked only after the fsync covering it.</summary>
    public void WriteHint(Meteora.Engine.Handoff.Hint hint, long completionToken)
    {
        ArgumentNullException.ThrowIfNull(hint);
        Span<byte> key = stackalloc byte[HintCodec.KeyBytes];
        HintCodec.EncodeKey(hint.Target, hint.Sequence, key);
        AppendHintChange(key, HintCodec.EncodeValue(hint), completionToken);
    }

    /// <summary>Removes a delivered or dropped hint; completes like a write (a crash before its sync may bring the hint back: replays are idempotent).</summary>
    public void DeleteHint(int target, long sequence, long completionToken)
    {
        Span<byte> key = stackalloc byte[HintCodec.KeyBytes];
        HintCodec.EncodeKey(target, sequence, key);
        AppendHintChange(key, null, completionToken);
    }

    private void AppendHintChange(ReadOnlySpan<byte> key, byte[]? value, long completionToken)
    {
        bool applied = false;
        if (ReadyToWrite())
        {
            try
            {
                if (value is null) _db.Remove(key.ToArray(), _hints, _appendWithoutSync);
                else _db.Put(key, value, _hints, _appendWithoutSync);
                applied = true;
            }
            catch (RocksDbException)
            {
                _walBroken = true; // not applied: reported as failed, in order
            }
        }
        Count(applied);
        Enqueue(new PendingOperation(completionToken, applied));
    }

    /// <summary>Every hint in the family, by target then sequence (the key order); a corrupt record stops the start with its reason.</summary>
    public void ReadHints(List<Meteora.Engine.Handoff.Hint> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using Iterator iterator = _db.NewIterator(_hints);
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            try
            {
                output.Add(HintCodec.Decode(iterator.Key(), iterator.Value()));
            }
            catch (InvalidDataException e)
            {
                // Startup reports it in one line (never a stack trace) rather than replaying some other write.
                throw new InvalidOperationException($"the hints family in {Path} holds a corrupt record ({e.Message}); it cannot be replayed", e);
            }
        }
    }

    /// <summary>RocksDB's own estimates for the data family (status pages only).</summary>
    public (long Keys, long Bytes) EstimateSize()
    {
        try
        {
            long keys = long.TryParse(_db.GetProperty("rocksdb.estimate-num-keys", _data), out long k) ? k : 0;
            long bytes = long.TryParse(_db.GetProperty("rocksdb.estimate-live-data-size", _data), out long b) ? b : 0;
            bytes += long.TryParse(_db.GetProperty("rocksdb.cur-size-all-mem-tables", _data), out long m) ? m : 0;
            return (keys, bytes);
        }
        catch (RocksDbException)
        {
            return (0, 0);
        }
    }

    private const string RingStateMetadataKey = "ring-state";

    public byte[]? ReadRingState() => ReadMetadata(RingStateMetadataKey);

    /// <summary>Synced write to the meta family: ring changes are rare, and a restart must resume from the adopted ring.</summary>
    public void WriteRingState(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        WriteMetadata(RingStateMetadataKey, encoded);
    }

    /// <summary>Node metadata (node id, ring); written synchronously.</summary>
    public byte[]? ReadMetadata(string name) => _db.Get(System.Text.Encoding.UTF8.GetBytes(name), _metadata);

    public void WriteMetadata(string name, byte[] value) =>
        _db.Put(System.Text.Encoding.UTF8.GetBytes(name), value, _metadata, _appendAndSync);

    private void Enqueue(PendingOperation operation)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_queued.Count >= MaxPendingOperations)
            {
                throw new InvalidOperationException($"storage has {MaxPendingOperations} operations waiting for a sync");
            }
            _queued.Add(operation);
            if (operation.Applied && !operation.Barrier) Interlocked.Increment(ref _appliedUnsynced);
            if (_queued.Count == 1) Monitor.Pulse(_gate);
        }
    }

    private void RunIoThread()
    {
        var batch = new List<PendingOperation>();
        while (true)
        {
            lock (_gate)
            {
                while (_queued.Count == 0 && !_stopping) Monitor.Wait(_gate);
                if (_queued.Count == 0) return;
                (batch, _queued) = (_queued, batch);
            }
            long syncStarted = Stopwatch.GetTimestamp();
            bool synced = SyncWal(batch);
            Metrics?.ObserveSync(batch.Count, Stopwatch.GetElapsedTime(syncStarted));
            foreach (PendingOperation operation in batch)
            {
                _sink.OnStorageCompleted(operation.Token, synced && operation.Applied);
                if (operation.Applied && !operation.Barrier) Interlocked.Decrement(ref _appliedUnsynced);
            }
            _sink.OnStorageBatchCompleted();
            Interlocked.Add(ref _completedCount, batch.Count);
            batch.Clear();
        }
    }

    /// <summary>One fsync of the WAL covers every append made before it, i.e. the whole batch.</summary>
    private bool SyncWal(List<PendingOperation> batch)
    {
        if (_faulted) return false;
        // Even a batch of only Sync barriers needs the fsync: a barrier promises earlier writes are durable.
        try
        {
            lock (_dbLock) Native.Instance.rocksdb_flush_wal(_db.Handle, 1);
            Interlocked.Increment(ref _syncCount);
            return true;
        }
        catch (Exception e) when (e is RocksDbException or IOException)
        {
            // A WAL broken by a failed append (full disk) fails every sync after it. If nothing in the
            // batch was applied, nothing visible is undurable (earlier batches synced): fail the batch,
            // stay up, and reopen the database before the next write.
            if (!batch.Exists(o => o.Applied && !o.Barrier))
            {
                _walBroken = true;
                return false;
            }
            Fail(e);
            return false;
        }
    }

    private void Fail(Exception e)
    {
        if (_faulted) return;
        _faulted = true;
        Faulted?.Invoke(e);
    }

    /// <summary>Stops the I/O thread after it completed everything queued (one final sync), then closes the database.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _ioThread.Join();
        lock (_dbLock) _db.Dispose();
    }

    private readonly record struct PendingOperation(long Token, bool Applied, bool Barrier = false);

    private sealed class StoredValueDeserializer : ISpanDeserializer<StoredValue?>
    {
        public static readonly StoredValueDeserializer Instance = new();

        public StoredValue? Deserialize(ReadOnlySpan<byte> buffer) => StoredValueCodec.Decode(buffer);
    }
}
