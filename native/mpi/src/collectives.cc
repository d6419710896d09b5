// The collectives of data-parallel training (src/train/distributed/): a float32 sum allreduce in
// place on a tensor's own buffer (Horovod's and PyTorch DDP's fp32 gradient reduction; the caller
// groups gradients into buckets), a bulk broadcast (the starting weights), and rank 0's small
// gathers and broadcasts with a deadline (the check-in before each gradient exchange and the lead
// rank's decisions). Those wait by polling MPI_Test, spinning ~100 µs and then sleeping (20 µs
// growing to 1 ms), so a rank waiting while rank 0 validates leaves its core to others, and give
// up at the deadline naming the ranks that did not answer, where a blocking call would hang.
// RawAllreduce is the bench's reference: MPI_Allreduce of one buffer in a C loop.
#include <time.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "mpi_addon.h"

namespace resmlp_mpi {

namespace {

// Root of every gather and broadcast: the lead rank.
constexpr int kRoot = 0;
// MPI counts are ints: larger buffers go in pieces of this many bytes (1 GiB).
constexpr size_t kChunk = size_t{1} << 30;

// Tests every request not yet done until all are, or until `timeout_s` (≤ 0: no limit) has passed.
// done[i] is set for each completed request. Returns whether all completed.
bool PollUntil(std::vector<MPI_Request>& reqs, std::vector<char>& done, double timeout_s) {
  const double t0 = MPI_Wtime();
  long sleep_ns = 0;
  for (;;) {
    bool all = true;
    for (size_t i = 0; i < reqs.size(); i++) {
      if (done[i]) continue;
      int flag = 0;
      MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
      if (flag) done[i] = 1;
      else all = false;
    }
    if (all) return true;
    const double elapsed = MPI_Wtime() - t0;
    if (timeout_s > 0 && elapsed > timeout_s) return false;
    if (elapsed > 1e-4) {
      sleep_ns = std::min(1000000L, std::max(20000L, sleep_ns * 2));
      timespec ts{0, sleep_ns};
      nanosleep(&ts, nullptr);
    }
  }
}

// Cancels and frees the requests a timed-out wait left behind (the caller is about to fail).
void Abandon(std::vector<MPI_Request>& reqs, const std::vector<char>& done) {
  for (size_t i = 0; i < reqs.size(); i++) {
    if (done[i] || reqs[i] == MPI_REQUEST_NULL) continue;
    MPI_Cancel(&reqs[i]);
    MPI_Request_free(&reqs[i]);
  }
}

int Rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int Size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

Napi::Array RankList(Napi::Env env, const std::vector<int>& ranks) {
  Napi::Array a = Napi::Array::New(env, ranks.size());
  for (size_t i = 0; i < ranks.size(); i++) a.Set(static_cast<uint32_t>(i), ranks[i]);
  return a;
}

double TimeoutArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 0;
}

int TagArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : 0;
}

// The nonblocking sends and receives of one timed collective, each with the rank at its other end.
struct PeerRequests {
  std::vector<MPI_Request> reqs;
  std::vector<int> peers;

  // Records request `q` to or from `peer`, which `what` (MPI_Isend, MPI_Irecv) posted with result
  // `rc`. False, with a JavaScript exception pending, when MPI refused it.
  bool Add(Napi::Env env, const char* what, int rc, MPI_Request q, int peer) {
    if (rc != MPI_SUCCESS) {
      ThrowMpi(env, what, rc);
      return false;
    }
    reqs.push_back(q);
    peers.push_back(peer);
    return true;
  }

  // Waits for every request until `timeout_s` (≤ 0: no limit); the ranks whose requests did not
  // complete in time (those requests are cancelled).
  Napi::Array Wait(Napi::Env env, double timeout_s) {
    std::vector<char> done(reqs.size(), 0);
    std::vector<int> missing;
    if (!PollUntil(reqs, done, timeout_s)) {
      for (size_t i = 0; i < reqs.size(); i++)
        if (!done[i]) missing.push_back(peers[i]);
      Abandon(reqs, done);
    }
    return RankList(env, missing);
  }
};

}  // namespace

// allreduce(x: Float32Array): x ← the sum of every rank's x, in place (MPI_IN_PLACE, MPI_SUM).
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Ready(env, "allreduce")) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(env, "allreduce: expected a Float32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto a = info[0].As<Napi::Float32Array>();
  float* p = a.Data();
  size_t n = a.ElementLength();
  for (size_t off = 0; off < n; off += kChunk / sizeof(float)) {
    int count = static_cast<int>(std::min(n - off, kChunk / sizeof(float)));
    int rc = MPI_Allreduce(MPI_IN_PLACE, p + off, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
      ThrowMpi(env, "MPI_Allreduce", rc);
      return env.Undefined();
    }
  }
  return env.Undefined();
}

// bcastBulk(buf: TypedArray): rank 0's bytes to every rank (MPI_Bcast, blocking).
Napi::Value BcastBulk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Ready(env, "bcastBulk")) return env.Undefined();
  Bytes b = BytesOf(env, info[0], "bcastBulk", "buf");
  if (b.data == nullptr && b.size == 0 && env.IsExceptionPending()) return env.Undefined();
  for (size_t off = 0; off < b.size; off += kChunk) {
    int count = static_cast<int>(std::min(b.size - off, kChunk));
    int rc = MPI_Bcast(b.data + off, count, MPI_BYTE, kRoot, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
      ThrowMpi(env, "MPI_Bcast", rc);
      return env.Undefined();
    }
  }
  return env.Undefined();
}

// gatherTimed(send, recv | null, timeoutSec, tag) → ranks that did not answer in time.
// Rank 0 receives every rank's `send` bytes (all the same length) into recv[r·len..]; other
// ranks send theirs. On rank 0 the result lists the ranks whose bytes did not arrive within the
// deadline; on the others, [0] when rank 0 did not take them. timeoutSec ≤ 0: no deadline.
Napi::Value GatherTimed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Ready(env, "gatherTimed")) return env.Undefined();
  Bytes send = BytesOf(env, info[0], "gatherTimed", "send");
  if (env.IsExceptionPending()) return env.Undefined();
  const double timeout = TimeoutArg(info, 2);
  const int tag = TagArg(info, 3);
  const int rank = Rank(), size = Size();
  if (send.size > static_cast<size_t>(INT_MAX)) {
    Napi::RangeError::New(env, "gatherTimed: more than 2 GiB per rank").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int n = static_cast<int>(send.size);
  PeerRequests pending;
  if (rank == kRoot) {
    Bytes recv = BytesOf(env, info[1], "gatherTimed", "recv");
    if (env.IsExceptionPending()) return env.Undefined();
    if (recv.size != send.size * static_cast<size_t>(size)) {
      Napi::RangeError::New(env, "gatherTimed: recv must hold size × send bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::copy(send.data, send.data + send.size, recv.data);
    for (int r = 0; r < size; r++) {
      if (r == kRoot) continue;
      MPI_Request q;
      int rc = MPI_Irecv(recv.data + send.size * r, n, MPI_BYTE, r, tag, MPI_COMM_WORLD, &q);
      if (!pending.Add(env, "MPI_Irecv", rc, q, r)) return env.Undefined();
    }
  } else {
    MPI_Request q;
    int rc = MPI_Isend(send.data, n, MPI_BYTE, kRoot, tag, MPI_COMM_WORLD, &q);
    if (!pending.Add(env, "MPI_Isend", rc, q, kRoot)) return env.Undefined();
  }
  return pending.Wait(env, timeout);
}

// bcastTimed(buf, timeoutSec, tag) → ranks that did not answer in time.
// Rank 0 sends `buf` to every rank, which receives it in place (same length everywhere). On rank 0
// the result lists ranks whose copy was not taken within the deadline; on the others, [0] when
// nothing came from rank 0 in time. timeoutSec ≤ 0: no deadline.
Napi::Value BcastTimed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Ready(env, "bcastTimed")) return env.Undefined();
  Bytes buf = BytesOf(env, info[0], "bcastTimed", "buf");
  if (env.IsExceptionPending()) return env.Undefined();
  const double timeout = TimeoutArg(info, 1);
  const int tag = TagArg(info, 2);
  const int rank = Rank(), size = Size();
  if (buf.size > static_cast<size_t>(INT_MAX)) {
    Napi::RangeError::New(env, "bcastTimed: more than 2 GiB").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int n = static_cast<int>(buf.size);
  PeerRequests pending;
  for (int r = 0; r < size; r++) {
    if (rank == kRoot ? r == kRoot : r != rank) continue;
    MPI_Request q;
    int rc = rank == kRoot ? MPI_Isend(buf.data, n, MPI_BYTE, r, tag, MPI_COMM_WORLD, &q)
                           : MPI_Irecv(buf.data, n, MPI_BYTE, kRoot, tag, MPI_COMM_WORLD, &q);
    if (!pending.Add(env, rank == kRoot ? "MPI_Isend" : "MPI_Irecv", rc, q, rank == kRoot ? r : kRoot))
      return env.Undefined();
  }
  return pending.Wait(env, timeout);
}

// rawAllreduce(floats, iters) → Float64Array of seconds per MPI_Allreduce of one buffer of
// `floats` float32 (in place, sum), after a barrier; the bench's reference for allreduce.ts. The
// buffer is kept between calls (its pages mapped and warm, as a training run's gradients are).
Napi::Value RawAllreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Ready(env, "rawAllreduce")) return env.Undefined();
  const double nf = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  const int iters = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (!(nf >= 1 && nf <= static_cast<double>(INT_MAX)) || iters < 1) {
    Napi::RangeError::New(env, "rawAllreduce(floats, iters): floats in 1..2^31−1, iters ≥ 1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int n = static_cast<int>(nf);
  static std::vector<float> buf;
  if (buf.size() < static_cast<size_t>(n)) buf.assign(n, 0.f);  // zeros: sums stay zeros, never denormal
  Napi::Float64Array out = Napi::Float64Array::New(env, iters);
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i < iters; i++) {
    const double t0 = MPI_Wtime();
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf.data(), n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    out[i] = MPI_Wtime() - t0;
    if (rc != MPI_SUCCESS) {
      ThrowMpi(env, "MPI_Allreduce", rc);
      return env.Undefined();
    }
  }
  return out;
}

}  // namespace resmlp_mpi
