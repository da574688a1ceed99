defmodule EcsPeers.AWS.ClockTest do
  use ExUnit.Case, async: true

  alias EcsPeers.AWS.Clock

  @local ~U[2026-01-01 12:00:00Z]

  defp date(dt), do: [{"Date", Calendar.strftime(dt, "%a, %d %b %Y %H:%M:%S GMT")}]

  test "HTTP dates parse in their three forms; anything else does not" do
    assert Clock.parse_http_date("Thu, 01 Jan 2026 12:15:00 GMT") ==
             {:ok, ~U[2026-01-01 12:15:00Z]}

    assert Clock.parse_http_date("Thursday, 01-Jan-26 12:15:00 GMT") ==
             {:ok, ~U[2026-01-01 12:15:00Z]}

    assert Clock.parse_http_date("Thu Jan  1 12:15:00 2026") == {:ok, ~U[2026-01-01 12:15:00Z]}
    assert Clock.parse_http_date("yesterday") == :error
    assert Clock.parse_http_date("") == :error
  end

  test "a Date header 5 minutes or more away sets the offset to it" do
    ahead = DateTime.add(@local, 15 * 60, :second)
    assert Clock.offset_from(date(ahead), 0, @local) == {:corrected, 15 * 60_000}

    behind = DateTime.add(@local, -5 * 60, :second)
    assert Clock.offset_from(date(behind), 0, @local) == {:corrected, -5 * 60_000}
  end

  test "a small difference, a known offset, or no usable Date header changes nothing" do
    assert Clock.offset_from(date(DateTime.add(@local, 299, :second)), 0, @local) == :unchanged
    # Already corrected: the server agrees with the corrected clock.
    ahead = DateTime.add(@local, 15 * 60, :second)
    assert Clock.offset_from(date(ahead), 15 * 60_000 - 2_000, @local) == :unchanged
    assert Clock.offset_from([], 0, @local) == :unchanged
    assert Clock.offset_from([{"date", "soon"}], 0, @local) == :unchanged
  end

  test "the corrected clock is the local one plus the offset" do
    assert Clock.now(-60_000, @local) == ~U[2026-01-01 11:59:00Z]
  end

  test "only errors AWS answers a mistimed request with count as possible skew" do
    for type <-
          ~w(RequestTimeTooSkewed InvalidSignatureException SignatureDoesNotMatch RequestExpired) do
      assert Clock.skew_error?({:aws_error, 400, type, "Signature expired"})
    end

    refute Clock.skew_error?({:aws_error, 400, "ThrottlingException", "Rate exceeded"})
    refute Clock.skew_error?({:aws_error, 400, "AccessDeniedException", "no"})
    refute Clock.skew_error?(:no_region)
  end
end
