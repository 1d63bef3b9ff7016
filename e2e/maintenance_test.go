package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// The local authorization list, firmware update and diagnostics cases.

func TestTC_042_GetLocalListVersion(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-042")
	cp.bootAvailable(1)
	if l := sys.localList("CP-042"); l.Version != nil || len(l.Entries) != 0 {
		t.Errorf("local list before any answer: %+v, want no version", l)
	}
	for _, version := range []int{0, 7, -1} { // empty, a list, no local list at all
		cp.on("GetLocalListVersion", reply(&ocpp.GetLocalListVersionResponse{ListVersion: version}))
		m := cp.mark()
		got := sys.operate("CP-042", "GetLocalListVersion", "")
		want := fmt.Sprintf(`{"listVersion":%d}`, version)
		wantJSON(t, "GetLocalListVersion answer", got, want)
		cp.wantFlow(m, "CS>CP GetLocalListVersion.req", "CP>CS GetLocalListVersion.conf")
		wantOperation(t, sys.lastOperation("CP-042", "GetLocalListVersion"), "GetLocalListVersion", `{}`, want)
		if l := sys.localList("CP-042"); val(l.Version) != version {
			t.Errorf("local list version %v, want %d", val(l.Version), version)
		}
	}
}

func TestTC_043_SendLocalList(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-043")
	cp.bootAvailable(1)
	// The charger keeps its list version, and refuses an update whose version is not newer.
	version := 0
	cp.onCall("SendLocalList", func(call rpc.Call) answer {
		req := decodeCall[ocpp.SendLocalListRequest](cp, call)
		if req.ListVersion <= version {
			return reply(&ocpp.SendLocalListResponse{Status: ocpp.UpdateStatusVersionMismatch})
		}
		version = req.ListVersion
		return reply(&ocpp.SendLocalListResponse{Status: ocpp.UpdateStatusAccepted})
	})
	cp.onCall("GetLocalListVersion", func(rpc.Call) answer {
		return reply(&ocpp.GetLocalListVersionResponse{ListVersion: version})
	})
	entries := func() []string {
		var out []string
		for _, e := range sys.localList("CP-043").Entries {
			out = append(out, e.IdTag+":"+e.Status)
		}
		slices.Sort(out)
		return out
	}

	t.Run("full", func(t *testing.T) {
		m := cp.mark()
		body := `{"listVersion":1,"updateType":"Full","localAuthorizationList":[
			{"idTag":"TAG-A","idTagInfo":{"status":"Accepted"}},
			{"idTag":"TAG-B","idTagInfo":{"status":"Blocked"}},
			{"idTag":"TAG-C","idTagInfo":{"status":"Accepted","parentIdTag":"FLEET-1","expiryDate":"2031-01-01T00:00:00.000Z"}}]}`
		wantJSON(t, "SendLocalList answer", sys.operate("CP-043", "SendLocalList", body), `{"status":"Accepted"}`)
		cp.wantFlow(m, "CS>CP SendLocalList.req", "CP>CS SendLocalList.conf")
		req := request[ocpp.SendLocalListRequest](cp, m)
		if req.UpdateType != ocpp.UpdateTypeFull || req.ListVersion != 1 || len(req.LocalAuthorizationList) != 3 {
			t.Errorf("SendLocalList on the wire: %+v", req)
		}
		for _, d := range req.LocalAuthorizationList {
			if d.IdTagInfo == nil {
				t.Errorf("Full update entry %s without idTagInfo", d.IdTag)
			}
		}
		l := sys.localList("CP-043")
		if val(l.Version) != 1 || val(l.EntriesVersion) != 1 {
			t.Errorf("local list versions %v/%v, want 1/1", val(l.Version), val(l.EntriesVersion))
		}
		if got := entries(); !slices.Equal(got, []string{"TAG-A:Accepted", "TAG-B:Blocked", "TAG-C:Accepted"}) {
			t.Errorf("local list entries %v", got)
		}
		for _, e := range l.Entries {
			if e.IdTag == "TAG-C" && (val(e.ParentIdTag) != "FLEET-1" || e.ExpiryDate == nil || !e.ExpiryDate.Equal(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))) {
				t.Errorf("TAG-C stored as %+v", e)
			}
		}
	})
	t.Run("differential", func(t *testing.T) {
		m := cp.mark()
		body := `{"listVersion":2,"updateType":"Differential","localAuthorizationList":[
			{"idTag":"TAG-D","idTagInfo":{"status":"Accepted"}},
			{"idTag":"TAG-B"}]}`
		wantJSON(t, "SendLocalList answer", sys.operate("CP-043", "SendLocalList", body), `{"status":"Accepted"}`)
		cp.wantFlow(m, "CS>CP SendLocalList.req", "CP>CS SendLocalList.conf")
		if req := request[ocpp.SendLocalListRequest](cp, m); req.UpdateType != ocpp.UpdateTypeDifferential || req.ListVersion != 2 {
			t.Errorf("SendLocalList on the wire: %+v", req)
		}
		if got := entries(); !slices.Equal(got, []string{"TAG-A:Accepted", "TAG-C:Accepted", "TAG-D:Accepted"}) {
			t.Errorf("local list entries after the differential update %v", got)
		}
		if l := sys.localList("CP-043"); val(l.Version) != 2 || val(l.EntriesVersion) != 2 {
			t.Errorf("local list versions %v/%v, want 2/2", val(l.Version), val(l.EntriesVersion))
		}
	})
	t.Run("version mismatch", func(t *testing.T) {
		m := cp.mark()
		body := `{"listVersion":2,"updateType":"Differential","localAuthorizationList":[{"idTag":"TAG-E","idTagInfo":{"status":"Accepted"}}]}`
		wantJSON(t, "SendLocalList answer", sys.operate("CP-043", "SendLocalList", body), `{"status":"VersionMismatch"}`)
		cp.wantFlow(m, "CS>CP SendLocalList.req", "CP>CS SendLocalList.conf")
		wantOperation(t, sys.lastOperation("CP-043", "SendLocalList"), "SendLocalList", "", `{"status":"VersionMismatch"}`)
		if got := entries(); !slices.Equal(got, []string{"TAG-A:Accepted", "TAG-C:Accepted", "TAG-D:Accepted"}) {
			t.Errorf("local list entries after the refused update %v, want them unchanged", got)
		}
		wantJSON(t, "GetLocalListVersion answer", sys.operate("CP-043", "GetLocalListVersion", ""), `{"listVersion":2}`)
		if l := sys.localList("CP-043"); val(l.Version) != 2 {
			t.Errorf("local list version %v, want 2", val(l.Version))
		}
	})
	t.Run("full update without idTagInfo", func(t *testing.T) {
		m := cp.mark()
		r := sys.do("POST", "/api/v1/stations/CP-043/operations/SendLocalList", `{"listVersion":9,"updateType":"Full","localAuthorizationList":[{"idTag":"TAG-X"}]}`)
		if r.status != http.StatusBadRequest {
			t.Errorf("Full update with an entry without idTagInfo: %d %s, want 400", r.status, r.body)
		}
		cp.wantFlow(m)
	})
}

// firmwareCase runs an UpdateFirmware the charger accepts and reports statuses for; each
// status is a FirmwareStatusNotification, "Boot" a reboot in between.
func firmwareCase(t *testing.T, steps []string, wantStatus string) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-044")
	cp.bootAvailable(1)
	cp.on("UpdateFirmware", reply(&ocpp.UpdateFirmwareResponse{}))
	retrieve := now().Add(time.Minute).Truncate(time.Second)

	m := cp.mark()
	body := fmt.Sprintf(`{"location":"https://fw.example.com/e2e-2.0.bin","retrieveDate":%q,"retries":3,"retryInterval":60}`,
		retrieve.Format(time.RFC3339))
	wantJSON(t, "UpdateFirmware answer", sys.operate("CP-044", "UpdateFirmware", body), `{}`)
	cp.wantFlow(m, "CS>CP UpdateFirmware.req", "CP>CS UpdateFirmware.conf")
	req := request[ocpp.UpdateFirmwareRequest](cp, m)
	if req.Location != "https://fw.example.com/e2e-2.0.bin" || !req.RetrieveDate.Equal(retrieve) || val(req.Retries) != 3 || val(req.RetryInterval) != 60 {
		t.Errorf("UpdateFirmware on the wire: %+v", req)
	}
	frs := sys.firmwareRequests("CP-044")
	if len(frs) != 1 || frs[0].Status != "Requested" || !frs[0].Open || frs[0].Location != req.Location || !frs[0].RetrieveDate.Equal(retrieve) {
		t.Fatalf("firmware requests %+v, want one Requested and open", frs)
	}
	op := sys.lastOperation("CP-044", "UpdateFirmware")
	if frs[0].OperationID != op.ID {
		t.Errorf("firmware request of operation %d, want %d", frs[0].OperationID, op.ID)
	}

	m = cp.mark()
	var want []string
	for i, step := range steps {
		if step == "Boot" {
			boot := bootRequest()
			boot.FirmwareVersion = "2.0.0"
			cp.hangUp()
			cp.dial()
			sendAs[ocpp.BootNotificationResponse](cp, boot)
			want = append(want, "CP>CS BootNotification.req", "CS>CP BootNotification.conf")
			continue
		}
		sendAs[ocpp.FirmwareStatusNotificationResponse](cp, &ocpp.FirmwareStatusNotificationRequest{Status: ocpp.FirmwareStatus(step)})
		want = append(want, "CP>CS FirmwareStatusNotification.req", "CS>CP FirmwareStatusNotification.conf")
		fr := sys.firmwareRequests("CP-044")[0]
		last := i == len(steps)-1
		if fr.Status != step || fr.Open == last {
			t.Errorf("after %s the firmware request is %+v, want status %s, open %v", step, fr, step, !last)
		}
	}
	cp.wantFlow(m, want...)
	if fr := sys.firmwareRequests("CP-044")[0]; fr.Status != wantStatus || fr.Open {
		t.Errorf("firmware request ends as %+v, want %s and closed", fr, wantStatus)
	}
	var notes []string
	for _, e := range sys.events("CP-044", "FirmwareStatusNotification") {
		notes = append(notes, e.Note)
	}
	if want := slices.DeleteFunc(slices.Clone(steps), func(s string) bool { return s == "Boot" }); !slices.Equal(notes, want) {
		t.Errorf("FirmwareStatusNotification events %v, want %v", notes, want)
	}
	if slices.Contains(steps, "Boot") {
		if v := sys.station("CP-044").Boot.FirmwareVersion; v != "2.0.0" {
			t.Errorf("firmware version after the update %q, want 2.0.0", v)
		}
	}
}

func TestTC_044_1_FirmwareUpdateInstalled(t *testing.T) {
	firmwareCase(t, []string{"Downloading", "Downloaded", "Installing", "Boot", "Installed"}, "Installed")
}

func TestTC_044_2_FirmwareUpdateDownloadFailed(t *testing.T) {
	firmwareCase(t, []string{"Downloading", "DownloadFailed"}, "DownloadFailed")
}

func TestTC_044_3_FirmwareUpdateInstallationFailed(t *testing.T) {
	firmwareCase(t, []string{"Downloading", "Downloaded", "Installing", "InstallationFailed"}, "InstallationFailed")
}

func TestTC_045_GetDiagnostics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fileName string
		steps    []ocpp.DiagnosticsStatus
		want     string
	}{
		{"uploaded", "diag-CP-045.zip", []ocpp.DiagnosticsStatus{ocpp.DiagnosticsStatusUploading, ocpp.DiagnosticsStatusUploaded}, "Uploaded"},
		{"upload failed", "diag-CP-045.zip", []ocpp.DiagnosticsStatus{ocpp.DiagnosticsStatusUploading, ocpp.DiagnosticsStatusUploadFailed}, "UploadFailed"},
		{"no diagnostics", "", nil, "NoDiagnostics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys := newSystem(t)
			cp := sys.connect("CP-045")
			cp.bootAvailable(1)
			cp.on("GetDiagnostics", reply(&ocpp.GetDiagnosticsResponse{FileName: tc.fileName}))
			from := now().Add(-24 * time.Hour).Truncate(time.Second)

			m := cp.mark()
			body := fmt.Sprintf(`{"location":"ftp://diag.example.com/upload/","startTime":%q,"retries":2}`, from.Format(time.RFC3339))
			want := `{}`
			if tc.fileName != "" {
				want = fmt.Sprintf(`{"fileName":%q}`, tc.fileName)
			}
			wantJSON(t, "GetDiagnostics answer", sys.operate("CP-045", "GetDiagnostics", body), want)
			req := request[ocpp.GetDiagnosticsRequest](cp, m)
			if req.Location != "ftp://diag.example.com/upload/" || req.StartTime == nil || !req.StartTime.Equal(from) || val(req.Retries) != 2 {
				t.Errorf("GetDiagnostics on the wire: %+v", req)
			}
			drs := sys.diagnosticsRequests("CP-045")
			if len(drs) != 1 || drs[0].Location != req.Location {
				t.Fatalf("diagnostics requests %+v, want one", drs)
			}
			if tc.fileName == "" {
				if drs[0].FileName != nil || drs[0].Status != "NoDiagnostics" || drs[0].Open {
					t.Errorf("diagnostics request %+v, want NoDiagnostics, closed, no file", drs[0])
				}
				return
			}
			if val(drs[0].FileName) != tc.fileName || drs[0].Status != "Requested" || !drs[0].Open {
				t.Errorf("diagnostics request %+v, want Requested, open, file %s", drs[0], tc.fileName)
			}
			wantFlow := []string{"CS>CP GetDiagnostics.req", "CP>CS GetDiagnostics.conf"}
			for i, status := range tc.steps {
				sendAs[ocpp.DiagnosticsStatusNotificationResponse](cp, &ocpp.DiagnosticsStatusNotificationRequest{Status: status})
				wantFlow = append(wantFlow, "CP>CS DiagnosticsStatusNotification.req", "CS>CP DiagnosticsStatusNotification.conf")
				dr := sys.diagnosticsRequests("CP-045")[0]
				if last := i == len(tc.steps)-1; dr.Status != string(status) || dr.Open == last {
					t.Errorf("after %s the diagnostics request is %+v", status, dr)
				}
			}
			cp.wantFlow(m, wantFlow...)
			if dr := sys.diagnosticsRequests("CP-045")[0]; dr.Status != tc.want || dr.Open {
				t.Errorf("diagnostics request ends as %+v, want %s and closed", dr, tc.want)
			}
			if evs := sys.events("CP-045", "DiagnosticsStatusNotification"); len(evs) != len(tc.steps) {
				t.Errorf("%d DiagnosticsStatusNotification events, want %d", len(evs), len(tc.steps))
			}
		})
	}
}
