"""Print-ready files for machines that cut records: SVG (laser), G-code (CNC / laser), DXF (CAD).

All share one plan of the cut, :class:`CutPlan`, in millimetres with y down, the same frame as
the rendered picture.
"""

from izdat.fabricate.plan import CutPlan, SPINDLE_HOLE_MM
from izdat.fabricate.svg import write_svg, read_svg_path
from izdat.fabricate.gcode import write_gcode, read_gcode_path
from izdat.fabricate.dxf import write_dxf

__all__ = ["CutPlan", "SPINDLE_HOLE_MM", "write_svg", "read_svg_path", "write_gcode", "read_gcode_path", "write_dxf"]
