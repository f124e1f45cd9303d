// Package filelock takes an advisory exclusive lock beside a file, so that
// several processes updating the file (the agent and `kep agent sites
// revoke` writing sites.json) do it one at a time.
//
//	unlock, err := filelock.LockContext(ctx, path) // locks path + ".lock"
//	if err != nil { ... }
//	defer unlock()
//	// read path, change it, replace it atomically
//
// The lock is flock(2) on Unix and LockFileEx on Windows, held on path +
// ".lock" (created with mode 0600 and never removed: removing it would let
// two processes lock two different files). It is advisory: it excludes only
// processes that take it too, and nothing stops a process that does not.
// The operating system releases it when the holder closes it or dies, so a
// crashed process never leaves it taken. Two locks taken in one process
// exclude each other as two processes do. Network file systems may not
// implement it; keep the files on a local disk.
package filelock

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// Lock takes the exclusive lock of path (on path + ".lock"), waiting as long
// as another holder has it. The returned function releases it; calling it
// again returns an error.
func Lock(path string) (unlock func() error, err error) {
	return LockContext(context.Background(), path)
}

// LockContext is Lock that gives up when ctx ends, with ctx's error. It tries
// at once and then again every few milliseconds, so with a ctx that has
// already ended it is a try-lock: the lock if it is free, else ctx.Err().
func LockContext(ctx context.Context, path string) (unlock func() error, err error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("filelock: %w", err)
	}
	if err := acquire(ctx, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("filelock: locking %s: %w", name, err)
	}
	var once sync.Once
	return func() error {
		err := os.ErrClosed
		once.Do(func() { err = f.Close() }) // closing releases the lock
		if err != nil {
			return fmt.Errorf("filelock: unlocking %s: %w", name, err)
		}
		return nil
	}, nil
}

// acquire takes the lock on f: blocking in the kernel when ctx can never
// end, else by retrying a non-blocking attempt.
func acquire(ctx context.Context, f *os.File) error {
	if ctx.Done() == nil {
		return lockWait(f)
	}
	delay := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
