"""Errors the staff can cause and fix: shown as a Japanese message, never a traceback."""


class UserError(Exception):
    """A problem with the user's input or files, with a Japanese message naming the place."""

    exit_code = 2


class UnreadableSheet(UserError):
    """A sheet the contract needs cannot be read at all (damaged XML, too large): the whole
    run is refused, since results computed without it would be wrong, not just incomplete."""


def out_of_memory() -> str:
    """What staff are told when the memory ran out, on both faces: what they can do about it,
    where 「予期しないエラー（MemoryError: ）」 said nothing they could act on. Made as it is
    said, the run asked for again in the face's words (core.face.again): a constant said
    「もう一度実行してください」 on the PC's buttons."""
    from .face import again

    return (f"メモリが足りなくなったため止まりました。ほかのアプリを閉じてから、もう一度{again()}ください"
            "（ファイルがとても大きいか壊れているときにも起きます）。")


def released(exc: BaseException) -> BaseException:
    """``exc`` (and the errors it was raised from) with the locals of its finished frames
    dropped, before a last guard does its own work.

    When the memory ran out, what filled it is still held by the frames of the failed work,
    which a traceback keeps alive: the guard's log record, even the import of the module that
    writes it, raised MemoryError again, and Python printed a traceback of its own (exit 1,
    nothing logged; qa-fuzz61). A traceback's text needs the frames' code and line numbers,
    not their locals. Written without an import or a container: nothing may need memory
    before it has run."""
    chained = exc
    for _ in range(16):             # a chain of causes is short; a cycle of them is not followed
        if chained is None:
            break
        tb = chained.__traceback__
        while tb is not None:
            try:
                tb.tb_frame.clear()
            except RuntimeError:    # a frame still running (the guard's own): its locals stay
                pass
            tb = tb.tb_next
        chained = chained.__cause__ or chained.__context__
    return exc
