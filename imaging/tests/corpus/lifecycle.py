"""A long series for killing an import in its middle (issue 13 §1)."""

import copy
from pathlib import Path

from pydicom import examples
from pydicom.uid import generate_uid

SLICES = 240


def make_long_ct_series(folder: Path, *, slices: int = SLICES) -> list[Path]:
    """Write one CT series of ``slices`` small slices (pydicom's 128×128 CT, each its own object and position).

    Nothing is wrong with them: they are many, so that an import of them lasts seconds and a test can kill
    the process that runs it in the middle. The import must bring in every slice as one stage; a killed
    import must leave no file that is in no image, and a rerun must bring in all of them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    series_uid, study_uid = generate_uid(), generate_uid()
    dataset = copy.deepcopy(examples.ct)
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study_uid, series_uid
    paths = []
    for number in range(1, slices + 1):
        dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        dataset.InstanceNumber = number
        dataset.ImagePositionPatient = [0.0, 0.0, float(number)]
        dataset.SliceLocation = float(number)
        path = folder / f"IM{number:05d}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
